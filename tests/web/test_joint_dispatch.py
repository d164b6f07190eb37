"""The dispatch form with cooperating and informed departments, through a real server."""

from __future__ import annotations

from tests.helpers import accept, open_task, open_task_names, report


def test_dispatch_form_names_cooperating_and_informed_departments(engine, web_user):
    case = report(engine)
    accept(engine, case)
    task = open_task(engine, "dispatcher", case, "dispatch")
    dispatcher = web_user("dispatcher")
    page = dispatcher.get(f"/tasks/{task['id']}")
    assert page.status_code == 200
    # the choices are the organisation's departments, as checkboxes
    assert 'type="checkbox" name="cooperating_departments" value="zjj"' in page.text
    assert 'type="checkbox" name="informed_departments" value="jtj"' in page.text
    sent = dispatcher.post(
        f"/tasks/{task['id']}/complete",
        {
            "department": "yjj",
            "deadline_days": "10",
            "cooperating_departments": ["zjj", "xf"],
            "cooperating_departments__shown": "1",
            "informed_departments": ["jtj"],
            "informed_departments__shown": "1",
        },
        page=page,
    )
    assert sent.status_code in (302, 303), sent.text
    assert open_task_names(engine, case) == ["receive", "receive", "receive"]
    data = engine.instance(case)["data"]
    assert data["cooperating_departments"] == ["zjj", "xf"]
    assert data["informed_departments"] == ["jtj"]
    # the case page lists each department's part; the informed officer reads it, no task
    informed = web_user("dept_jtj")
    shown = informed.get(f"/cases/{case}")
    assert shown.status_code == 200
    assert "协办" in shown.text and "牵头" in shown.text
    assert "/tasks/" not in shown.text.split("</h1>", 1)[1].split("<aside", 1)[0]
    assert web_user("dept_nyj").get(f"/cases/{case}").status_code in (403, 404)
    # three tasks of one name: each open task says whose it is
    names = {d["code"]: d["name"] for d in engine.departments()}
    tasks = shown.text.split('<ul class="open-tasks">', 1)[1].split("</ul>", 1)[0]
    for code in ("yjj", "zjj", "xf"):
        assert tasks.count(names[code]) == 1, code


def test_the_responsible_department_cannot_cooperate(engine, web_user):
    case = report(engine)
    accept(engine, case)
    task = open_task(engine, "dispatcher", case, "dispatch")
    dispatcher = web_user("dispatcher")
    page = dispatcher.get(f"/tasks/{task['id']}")
    sent = dispatcher.post(
        f"/tasks/{task['id']}/complete",
        {"department": "yjj", "deadline_days": "10", "cooperating_departments": ["yjj"]},
        page=page,
    )
    assert sent.status_code == 422
    assert "协办部门不能包括责任部门" in sent.text
    assert open_task_names(engine, case) == ["dispatch"]
