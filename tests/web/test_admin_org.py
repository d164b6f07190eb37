"""The organisation pages over real HTTP, as an administrator uses them: a department added
and renamed, a grid added, moved and given its leader, a user added and given roles, a
department and grids; every refusal names the field in the reader's language and keeps what
was typed; an import is tried (its bad rows listed), nothing kept until it is confirmed;
moving an officer to another department gives the task they had claimed back."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import PROCESSES
from tests.helpers import accept, dispatch_as_proposed, open_task, report, to_rectify

pytestmark = pytest.mark.slow


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', html, re.S)


def field_error(html: str, field: str) -> str:
    found = re.search(
        rf'data-field="{field}".*?<p class="error" role="alert">(.*?)</p>', html, re.S
    )
    assert found, f"no error shown for {field}"
    return found.group(1)


def test_departments_and_grids_are_changed_on_the_page(web_user, engine):
    admin = web_user("admin")
    page = admin.get("/admin/organisation")
    assert page.status_code == 200 and "应急管理局" in page.text and "网格" in page.text

    added = admin.post(
        "/admin/organisation/departments",
        {"code": "sjj", "name": "市场监督管理局"},
        page=page,
        allow_redirects=True,
    )
    assert any("市场监督管理局" in f for f in flashes(added.text))
    assert {d["code"]: d["name"] for d in engine.departments()}["sjj"] == "市场监督管理局"

    again = admin.post(
        "/admin/organisation/departments", {"code": "sjj", "name": "又一个"}, page=page
    )
    assert again.status_code == 422
    assert field_error(again.text, "code") == "已有部门 sjj"
    assert 'value="又一个"' in again.text  # what was typed is kept
    bad = admin.post("/admin/organisation/departments", {"code": "市场", "name": ""}, page=page)
    assert bad.status_code == 422 and "不是编码" in field_error(bad.text, "code")

    renamed = admin.post("/admin/organisation/departments/sjj", {"name": "市场监管局"}, page=page)
    assert renamed.status_code == 302
    assert {d["code"]: d["name"] for d in engine.departments()}["sjj"] == "市场监管局"

    grid = admin.post(
        "/admin/organisation/grids",
        {"code": "ap-d1-t9", "name": "新建镇", "parent": "ap-d1", "level": "镇街"},
        page=page,
    )
    assert grid.status_code == 302
    grids = {g["code"]: g for g in engine.grids()}
    assert grids["ap-d1-t9"]["parent"] == "ap-d1" and grids["ap-d1-t9"]["level"] == "镇街"

    edit = admin.get("/admin/organisation/grids/ap-d1-t9")
    assert edit.status_code == 200 and "新建镇" in edit.text
    # the grid itself is not offered as its own parent
    assert 'value="ap-d1-t9"' not in re.search(
        r'<select id="parent".*?</select>', edit.text, re.S
    ).group(0)
    not_a_leader = admin.post(
        "/admin/organisation/grids/ap-d1-t9",
        {"name": "新建镇", "parent": "ap-d2", "level": "镇街", "leader": "dept_yjj"},
        page=edit,
    )
    assert not_a_leader.status_code == 422
    assert "挂点领导" in field_error(not_a_leader.text, "leader")
    assert {g["code"]: g for g in engine.grids()}["ap-d1-t9"]["parent"] == "ap-d1"  # unchanged
    under_itself = admin.post(
        "/admin/organisation/grids/ap-d1",
        {"name": "x", "parent": "ap-d1-t9"},
        page=admin.get("/admin/organisation/grids/ap-d1"),
    )
    assert under_itself.status_code == 422 and "之下" in field_error(under_itself.text, "parent")
    moved = admin.post(
        "/admin/organisation/grids/ap-d1-t9",
        {"name": "新建镇", "parent": "ap-d2", "level": "镇街", "leader": "leader_ap"},
        page=edit,
    )
    assert moved.status_code == 302
    grids = {g["code"]: g for g in engine.grids()}
    assert grids["ap-d1-t9"]["parent"] == "ap-d2" and grids["ap-d1-t9"]["leader"] == "leader_ap"

    english = web_user("admin", "en")
    refused = english.post(
        "/admin/organisation/departments", {"code": "sjj", "name": "x"},
        page=english.get("/admin/organisation"),
    )  # fmt: skip
    assert field_error(refused.text, "code") == "There is already a department sjj"


def test_a_user_is_added_and_moved_to_another_department(web_user, engine):
    case = to_rectify(engine)
    task = open_task(engine, "dept_yjj", case, "rectify")
    engine.claim(task["id"], engine.actor("dept_yjj"))
    admin = web_user("admin")
    form = admin.get("/admin/users/new")
    assert form.status_code == 200 and "部门经办人" in form.text

    refused = admin.post(
        "/admin/users/new", {"username": "dept_jtj2", "display_name": "交通局经办人"}, page=form
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "roles") == "请至少选择一个角色"
    assert 'value="交通局经办人"' in refused.text
    added = admin.post(
        "/admin/users/new",
        {"username": "dept_jtj2", "display_name": "交通局经办人", "roles": "department",
         "department": "jtj"},
        page=form,
    )  # fmt: skip
    assert added.status_code == 302 and added.headers["Location"].endswith("/admin/users/dept_jtj2")
    assert engine.actor("dept_jtj2").department == "jtj"
    taken = admin.post(
        "/admin/users/new", {"username": "dept_jtj2", "roles": "department"}, page=form
    )
    assert taken.status_code == 422 and "dept_jtj2" in field_error(taken.text, "username")

    page = admin.get("/admin/users/dept_yjj")
    moved = admin.post(
        "/admin/users/dept_yjj/edit",
        {"display_name": "应急管理局经办人", "roles": ["department", "leader"],
         "department": "zjj"},
        page=page,
    )  # fmt: skip
    assert moved.status_code == 302
    actor = engine.actor("dept_yjj")
    assert actor.department == "zjj" and "leader" in actor.roles
    back = [t for t in engine.instance(case)["open_tasks"] if t["id"] == task["id"]][0]
    assert back["assignee"] is None  # zjj may not work a yjj task: it went back to yjj
    unknown = admin.post(
        "/admin/users/dept_yjj/edit", {"roles": "department", "department": "nope"}, page=page
    )
    assert unknown.status_code == 422 and "nope" in field_error(unknown.text, "department")
    assert engine.actor("dept_yjj").department == "zjj"  # nothing written


def _book(rows: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, lines in rows.items():
        sheet = book.create_sheet(title)
        for line in lines:
            sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_import_is_tried_then_confirmed(web_user, engine):
    admin = web_user("admin")
    page = admin.get("/admin/organisation/import")
    template = admin.get("/admin/organisation/import/template.xlsx")
    assert template.status_code == 200
    sheets = load_workbook(io.BytesIO(template.content)).sheetnames
    assert sheets[:3] == ["部门", "网格", "用户"]

    book = _book({
        "部门": [["编码", "名称"], ["sjj", "市场监督管理局"], ["bad code", "坏"]],
        "用户": [["用户名", "姓名", "角色", "部门"], ["dept_sjj", "经办人", "department", "sjj"],
               ["who", "无部门", "department", "nope"]],
    })  # fmt: skip
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    tried = admin.session.post(
        admin.base + "/admin/organisation/import",
        data={"csrf_token": token},
        files={"file": ("org.xlsx", book)},
        timeout=30,
    )
    assert tried.status_code == 200
    rejected = re.search(
        r'<table class="queue cards import-rows rejected">.*?</table>', tried.text, re.S
    ).group(0)
    assert "bad code" in rejected and "不是编码" in rejected
    assert "who" in rejected and "没有部门 nope" in rejected
    assert "sjj" not in {d["code"] for d in engine.departments()}  # nothing kept yet

    done = admin.post("/admin/organisation/import/confirm", {}, page=tried, allow_redirects=True)
    assert any("2" in f for f in flashes(done.text)), flashes(done.text)
    assert "sjj" in {d["code"] for d in engine.departments()}
    assert engine.actor("dept_sjj").department == "sjj"
    twice = admin.post("/admin/organisation/import/confirm", {}, page=tried, allow_redirects=True)
    assert "没有可确认的导入" in twice.text  # the file is gone once imported

    not_a_sheet = admin.session.post(
        admin.base + "/admin/organisation/import",
        data={"csrf_token": token},
        files={"file": ("org.txt", b"x")},
        timeout=30,
    )
    assert not_a_sheet.status_code == 422 and "XLSX" in field_error(not_a_sheet.text, "file")


def test_a_department_added_and_routed_to_gets_the_new_cases(web_user, engine, server):
    """A newcomer's path without a shell: add the department and its officer on the pages,
    route a category to it in the dispatch table (uploaded on the process files page), and
    a new case of that category reaches that officer."""
    admin = web_user("admin")
    page = admin.get("/admin/organisation")
    admin.post("/admin/organisation/departments", {"code": "ycj", "name": "烟草专卖局"}, page=page)
    form = admin.get("/admin/users/new")
    added = admin.post(
        "/admin/users/new",
        {"username": "dept_ycj", "display_name": "烟草局经办人", "roles": "department",
         "department": "ycj"},
        page=form,
    )  # fmt: skip
    assert added.status_code == 302
    user_page = admin.get("/admin/users/dept_ycj")
    password = {"new_password": "hazard2026", "new_password_again": "hazard2026"}
    assert admin.post("/admin/users/dept_ycj/password", password, page=user_page).status_code == 302

    table = (PROCESSES / "dispatch.dmn").read_text(encoding="utf-8")
    rule = '<outputEntry id="rule_fireworks_general_department"><text>"yjj"</text>'
    assert rule in table
    routed = table.replace(rule, rule.replace('"yjj"', '"ycj"'))
    home = admin.get("/admin/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', home.text).group(1)
    base = re.search(r'name="base" value="(\d+)"', home.text).group(1)
    deployed = admin.session.post(
        admin.base + "/admin/deployments",
        data={"csrf_token": token, "base": base, "on_top": "1", "comment": "烟花爆竹改由烟草局"},
        files={"files": ("dispatch.dmn", routed.encode())},
        timeout=30,
    )
    assert deployed.status_code in (200, 302), deployed.text[:500]

    case = report(engine, category="fireworks", unit="城南烟花店")
    accept(engine, case, category="fireworks")
    assert engine.instance(case)["data"]["department"] == "ycj"
    dispatch_as_proposed(engine, case)
    officer = web_user("dept_ycj")
    queue = officer.get("/queue?tab=all")
    assert queue.status_code == 200 and "城南烟花店" in queue.text
