"""The pages through Flask's in-process client (the same WSGI app the server runs): sign-in,
CSRF, field errors, permissions, escaping, counts. What needs a real server process is in
test_api.py and tests/browser."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import MEMBER, REPORT, accept, act, open_task, report, to_rectify
from webui import create_app

PASSWORD = "hazard2026"
SCRIPT = "<script>alert('x')</script>"


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def signed_in(
    app: Flask, username: str, language: str = "zh-CN", client: FlaskClient | None = None
) -> FlaskClient:
    """A browser signed in as `username` (`client`: that browser, e.g. from another address)."""
    browser = client or app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    page = browser.get("/login")
    done = browser.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(page.text)},
    )
    assert done.status_code == 302, done.text
    return browser


def test_sign_in_needs_the_right_password_and_a_csrf_token(app):
    browser = app.test_client()
    page = browser.get("/login")
    assert "登录" in page.text  # Chinese first
    no_token = browser.post("/login", data={"username": "dispatcher", "password": PASSWORD})
    assert no_token.status_code == 400
    wrong = browser.post(
        "/login",
        data={"username": "dispatcher", "password": "nope", "csrf_token": csrf(page.text)},
    )
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert browser.get("/queue").status_code == 302


def test_incomplete_form_shows_chinese_errors_and_keeps_input(app):
    member = signed_in(app, MEMBER)
    page = member.get("/report/hazard_handling")
    typed = {
        "grid": "ap-d1-t1-v1",
        "unit": "",
        "category": "fireworks",
        "description": "库房堆放烟花",
        "csrf_token": csrf(page.text),
    }
    refused = member.post("/report/hazard_handling", data=typed)
    assert refused.status_code == 422
    assert "请填写「生产经营单位」" in refused.text
    assert "库房堆放烟花" in refused.text  # what was typed is still there
    assert re.search(r'<option value="fireworks" selected>', refused.text)


def test_another_departments_task_is_403(app, engine):
    case = to_rectify(engine)
    task = open_task(engine, "dept_yjj", case, "rectify")
    other = signed_in(app, "dept_zjj")
    assert other.get(f"/tasks/{task['id']}").status_code == 403
    page = other.get("/queue")  # a token of their own session
    refused = other.post(
        f"/tasks/{task['id']}/complete",
        data={"csrf_token": csrf(page.text)},
    )
    assert refused.status_code == 403
    assert other.get(f"/cases/{case}").status_code == 403


def test_script_in_a_report_is_shown_as_text_everywhere(app, engine):
    case = report(engine, unit=SCRIPT, description=SCRIPT)
    act(
        engine,
        "dispatcher",
        case,
        "classify",
        {"outcome": "accept", "grade": "general", "category": REPORT["category"]},
        comment=SCRIPT,
    )
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 5})
    dept = signed_in(app, "dept_yjj")
    member = signed_in(app, MEMBER)
    pages = [
        dept.get("/queue"),
        dept.get(f"/cases/{case}"),
        dept.get("/inbox"),  # the assignment names the unit
        dept.get(f"/tasks/{open_task(engine, 'dept_yjj', case, 'receive')['id']}"),
        member.get("/my-reports"),  # the reporter's list of cases
    ]
    for page in pages:
        assert page.status_code == 200
        assert SCRIPT not in page.text, page.url
        assert "&lt;script&gt;" in page.text, page.url  # shown, as text


def test_queue_counts_equal_the_rows_shown(app, engine):
    for _ in range(3):
        report(engine)
    to_rectify(engine)
    returned = report(engine)
    accept(engine, returned)
    act(engine, "dispatcher", returned, "dispatch", {"department": "yjj", "deadline_days": 5})
    act(engine, "dept_yjj", returned, "receive", {"decision": "return", "reason": "不属本部门"})
    engine.claim(
        open_task(engine, "dispatcher", returned, "dispatch")["id"], engine.actor("dispatcher")
    )
    dispatcher = signed_in(app, "dispatcher")
    counts = dispatcher.get("/queue/counts").get_json()
    tabs = ("all", "mine", "unclaimed", "overdue", "queue:待分类", "queue:部门退回")
    for tab in tabs:
        page = dispatcher.get("/queue", query_string={"tab": tab})
        rows = len(re.findall(r"<tr class=", page.text))
        assert rows == counts.get(tab, 0), (tab, rows, counts)
    assert counts["queue:待分类"] == 3 and counts["queue:部门退回"] == 1 and counts["mine"] == 1
    assert "queue:待派遣" not in counts  # a returned case is not a first dispatch
    # the tabs read in the order a case goes: triage before dispatch before verification
    page = dispatcher.get("/queue").text
    assert page.index("待分类") < page.index("部门退回")


def test_public_report_lands_in_triage_is_rate_limited_and_needs_csrf(app, engine):
    public = app.test_client()
    form = public.get("/public/report")
    assert form.status_code == 200 and 'name="photos__upload"' in form.text
    assert "grade" not in form.text  # the dispatcher's fields are not asked for
    data = {
        "grid": "ap-d2-t1-v1",
        "unit": "石桥村加油站",
        "category": "hazardous_chemicals",
        "description": "卸油区无静电接地",
        "csrf_token": csrf(form.text),
    }
    no_token = app.test_client().post("/public/report", data={**data, "csrf_token": ""})
    assert no_token.status_code == 400
    done = public.post("/public/report", data=data)
    assert done.status_code == 302
    lookup = done.headers["Location"]
    case = int(re.search(r"/public/cases/(\d+)", lookup).group(1))
    state = public.get(lookup)
    assert state.status_code == 200 and "办理中" in state.text
    assert engine.case_number(case) in state.text  # the number the reporter quotes
    assert public.get(f"/public/cases/{case}?code=wrong").status_code == 404
    assert open_task(engine, "dispatcher", case, "classify")  # the dispatcher's triage queue
    statuses = [public.post("/public/report", data=data).status_code for _ in range(5)]
    assert statuses[:4] == [302] * 4 and statuses[4] == 429  # 5 per hour per address


def test_filters_narrow_list_and_counts_alike_and_views_are_saved(app, engine):
    from tests.helpers import report as report_case

    report_case(engine)  # ap-d1-t1-v1, hazardous chemicals
    report_case(engine, grid="ap-d2-t1-v1", category="fireworks")
    report_case(engine, grid="ap-d2-t2-v1", category="fireworks")
    dispatcher = signed_in(app, "dispatcher")

    def rows_and_count(**params):
        page = dispatcher.get("/queue", query_string=params)
        counts = dispatcher.get("/queue/counts", query_string=params).get_json()
        return len(re.findall(r"<tr class=", page.text)), counts["all"], page

    assert rows_and_count()[:2] == (3, 3)
    assert rows_and_count(grid="ap-d2")[:2] == (2, 2)  # a district includes its villages
    assert rows_and_count(grid="ap-d2", category="fireworks")[:2] == (2, 2)
    assert rows_and_count(category="hazardous_chemicals")[:2] == (1, 1)
    assert rows_and_count(created_from="2099-01-01")[:2] == (0, 0)
    _, _, page = rows_and_count(grid="ap-d2")
    saved = dispatcher.post(
        "/queue/views",
        data={"name": "西山县", "query": "grid=ap-d2", "csrf_token": csrf(page.text)},
        follow_redirects=True,
    )
    assert saved.status_code == 200 and "西山县" in saved.text
    assert 'href="/queue?grid=ap-d2"' in dispatcher.get("/queue").text


def test_a_leader_sees_what_was_escalated_to_them(app, engine, clock):
    from datetime import timedelta

    from engine.clock import parse_iso

    case = to_rectify(engine, grade="major")
    deadline = parse_iso(engine.instance(case)["data"]["deadline"])
    clock.set(deadline + timedelta(minutes=1))
    engine.fire_due_timers()
    village_leader = signed_in(app, "leader_ap_d1_t1_v1")
    page = village_leader.get("/supervision")
    number = engine.case_number(case)
    assert page.status_code == 200 and f">{number}</a>" in page.text
    assert "南门社区" in page.text and "村社区" in page.text  # the grid and its level
    town_leader = signed_in(app, "leader_ap_d1_t1")
    assert number not in town_leader.get("/supervision").text
    dispatcher = signed_in(app, "dispatcher")
    assert "/supervision" not in dispatcher.get("/queue").text


def test_sign_in_page_shows_demo_logins_only_while_the_demo_password_works(app, engine):
    from werkzeug.security import generate_password_hash

    from engine.models import User

    assert "演示账号" in app.test_client().get("/login").text
    with engine.db.transaction() as session:
        session.get(User, "dispatcher").password_hash = generate_password_hash("changed")
    restarted = create_app(engine)  # checked once per process: a new one
    assert "演示账号" not in restarted.test_client().get("/login").text


def test_english_readers_see_the_process_texts_in_english(app, engine):
    case = report(engine)
    accept(engine, case)
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 5})
    act(engine, "dept_yjj", case, "receive", {"decision": "return", "reason": "不属本部门"})
    member = signed_in(app, MEMBER, language="en")
    page = member.get("/report/hazard_handling")
    assert "Report a hazard" in page.text and "Business unit" in page.text
    refused = member.post(
        "/report/hazard_handling",
        data={"grid": "ap-d1-t1-v1", "category": "fireworks", "csrf_token": csrf(page.text)},
    )
    assert refused.status_code == 422
    assert "Please fill in “Business unit”" in refused.text
    assert "请填写" not in refused.text
    dispatcher = signed_in(app, "dispatcher", language="en")
    queue = dispatcher.get("/queue").text
    assert "Returned by departments <span" in queue and "部门退回 <span" not in queue
    case_page = dispatcher.get(f"/cases/{case}").text
    assert "Return reason given by the department" in case_page
    assert "Classify and grade" in case_page
    diagram = dispatcher.get(f"/cases/{case}/diagram.json").get_json()
    assert 'name="Classify and grade"' in diagram["xml"] and 'name="分类定级"' not in diagram["xml"]


def test_a_task_is_handed_to_a_colleague_from_its_page_and_the_timeline_says_so(app, engine):
    case = report(engine)
    task = open_task(engine, "dispatcher", case, "classify")
    dispatcher = signed_in(app, "dispatcher")
    page = dispatcher.get(f"/tasks/{task['id']}")
    assert "安委办调度员（二） (dispatcher2)" in page.text  # colleagues of the same group, by name
    assert (
        '<option value="dispatcher">' not in page.text
        and '<option value="dispatcher2">' in page.text
    )
    done = dispatcher.post(
        f"/tasks/{task['id']}/handover",
        data={
            "to": "dispatcher2",
            "comment": "我下午外出检查",
            "csrf_token": csrf(page.text),
        },
    )
    assert done.status_code == 302
    assert engine.task(task["id"], engine.actor("dispatcher2"))["assignee"] == "dispatcher2"
    timeline = signed_in(app, "dispatcher2").get(f"/cases/{case}")
    assert "我下午外出检查" in timeline.text


def test_my_reports_say_where_each_case_is(app, engine):
    from tests.helpers import close_invalid

    waiting = report(engine)
    closed = report(engine)
    close_invalid(engine, closed)
    member = signed_in(app, MEMBER)
    page = member.get("/my-reports").text
    found = re.findall(r'/cases/(\d+)">(YH-\d{4}-\d{6})</a>(.*?)</li>', page, re.S)
    rows = {int(n): row for n, _number, row in found}
    assert {int(n): number for n, number, _row in found} == {
        case: engine.case_number(case) for case in (waiting, closed)
    }  # each by the number people know it by
    assert "分类定级" in rows[waiting] and "办理中" in rows[waiting]
    assert "无效结案" in rows[closed] and "已结案" in rows[closed]
    case_page = member.get(f"/cases/{waiting}").text
    assert "南门社区 (ap-d1-t1-v1)" in case_page  # the grid by its name, not only its code


def test_deadlines_read_as_time_left_and_turn_red_when_passed(app, engine, clock):
    from datetime import UTC, datetime

    late = to_rectify(engine)  # dispatched in March 2026: long overdue by the server's clock
    clock.set(datetime.now(UTC))
    in_time = to_rectify(engine)
    page = signed_in(app, "dept_yjj").get("/queue").text
    rows = {
        int(n): row
        for n, row in re.findall(
            r'/cases/(\d+)" class="case-number">[^<]+</a></td>(.*?)</tr>', page, re.S
        )
    }
    assert re.search(r'class="late"[^>]*>已超期 \d+', rows[late])
    assert re.search(r'class=""[^>]*>剩余 \d+', rows[in_time])


def test_a_supervising_leader_is_shown_by_name_not_by_group_key(app, engine):
    case = report(engine)
    accept(engine, case, grade="major")
    page = signed_in(app, "dispatcher").get(f"/cases/{case}").text
    assert "刘志强 (南门社区)" in page and "leader:ap-d1-t1-v1" not in page


def test_a_grid_member_reports_only_within_their_own_grids(app, engine):
    member = signed_in(app, MEMBER)  # 南门社区 (ap-d1-t1-v1)
    form = member.get("/report/hazard_handling")
    assert 'value="ap-d1-t1-v1"' in form.text and 'value="ap-d2-t1-v1"' not in form.text
    elsewhere = {
        "grid": "ap-d2-t1-v1",  # another district's village, posted anyway
        "unit": "石桥村加油站",
        "category": "hazardous_chemicals",
        "description": "卸油区无静电接地",
        "csrf_token": csrf(form.text),
    }
    refused = member.post("/report/hazard_handling", data=elsewhere)
    assert refused.status_code == 422 and "只能上报本人负责网格内的隐患" in refused.text
    assert engine.instances() == []
    dispatcher_form = signed_in(app, "dispatcher").get("/report/hazard_handling").text
    assert 'value="ap-d2-t1-v1"' in dispatcher_form  # not bound to grids: every grid
