"""The organisation from a workbook: an XLSX of fifty rows with three bad ones lists those
three with their reasons and keeps nothing until confirmed; then the rest goes in, in
whatever order the rows refer to each other. CSV too; and the one-at-a-time changes."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from tests.helpers import to_rectify


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fifty_rows_three_bad() -> bytes:
    departments = [["编码", "名称"], ["sjj", "市场监督管理局"], ["bad code!", "坏编码"]]
    # the new town's grids come before the town itself: rows may refer to later rows
    grids = [["编码", "名称", "上级网格", "层级", "挂点领导"]]
    grids += [[f"ap-d9-t1-v{i}", f"新村{i}", "ap-d9-t1", "村社区", None] for i in range(1, 21)]
    grids += [["ap-d9-t1", "新镇", "ap-d9", "镇街", "leader_new_town"]]
    grids += [["ap-d9", "新区", "ap", "区县", None]]
    grids += [["ap-x1", "无上级", "no-such-grid", "村社区", None]]  # bad: unknown parent
    users = [["用户名", "姓名", "角色", "部门", "网格"]]
    users += [["leader_new_town", "新镇领导", "leader", None, None]]
    users += [[f"member_new_{i}", f"新村{i}网格员", "grid_member", None, f"ap-d9-t1-v{i}"]
              for i in range(1, 21)]  # fmt: skip
    users += [
        [f"sjj_officer{i}", f"市场监管经办人{i}", "department", "sjj", None] for i in (1, 2, 3)
    ]
    users += [["nobody", "无角色", None, None, None]]  # bad: no role (row 26)
    book = _workbook({"部门": departments, "网格": grids, "用户": users})
    total = sum(len(t) - 1 for t in (departments, grids, users))
    assert total == 50
    return book


def test_fifty_rows_three_bad_listed_and_nothing_kept_until_confirmed(engine):
    book = _fifty_rows_three_bad()
    dry = engine.import_organisation("org.xlsx", book)
    assert not dry["applied"]
    assert (dry["added"], dry["rejected"]) == (47, 3)
    rejected = {(r["sheet"], r["row"]): r["reason"] for r in dry["rows"] if r["reason"]}
    assert set(rejected) == {("departments", 3), ("grids", 24), ("users", 26)}
    assert "code" in rejected[("departments", 3)]
    assert "no-such-grid" in rejected[("grids", 24)]
    assert "roles" in rejected[("users", 26)]
    assert "ap-d9" not in {g["code"] for g in engine.grids()}  # nothing kept
    assert "member_new_1" not in {u["name"] for u in engine.users()}

    done = engine.import_organisation("org.xlsx", book, confirm=True)
    assert done["applied"] and (done["added"], done["rejected"]) == (47, 3)
    grids = {g["code"]: g for g in engine.grids()}
    assert grids["ap-d9-t1"]["leader"] == "leader_new_town"
    assert grids["ap-d9-t1-v7"]["parent"] == "ap-d9-t1"
    member = engine.actor("member_new_7")
    assert member.grids == ("ap-d9-t1-v7",) and "grid_member" in member.roles

    again = engine.import_organisation("org.xlsx", book, confirm=True)  # the same file again
    assert (again["added"], again["updated"], again["rejected"]) == (0, 47, 3)


def test_a_csv_of_users_and_unreadable_files(engine):
    rows = "username,display_name,roles,department\nnew_yjj,新经办人,department,yjj\n"
    report = engine.import_organisation("users.csv", rows.encode(), confirm=True)
    assert report["added"] == 1 and engine.actor("new_yjj").department == "yjj"
    with pytest.raises(ValueError, match="xlsx"):
        engine.import_organisation("org.txt", b"x")
    with pytest.raises(ValueError, match="XLSX"):
        engine.import_organisation("org.xlsx", b"not a zip")
    with pytest.raises(ValueError, match="UTF-8"):
        engine.import_organisation("org.csv", "编码,名称\n".encode("gbk"))


def test_changes_one_at_a_time_name_the_field(engine):
    case = to_rectify(engine)
    engine.change_organisation("add_department", "sjj", "市场监督管理局")
    with pytest.raises(ValueError, match="code: department 'sjj' already exists"):
        engine.change_organisation("add_department", "sjj", "again")
    with pytest.raises(ValueError, match="parent: 'ap-d1-t1' is 'ap-d1' or below it"):
        engine.change_organisation("move_grid", "ap-d1", "ap-d1-t1")
    with pytest.raises(ValueError, match="leader: 'dept_yjj' does not have the leader role"):
        engine.change_organisation("set_leader", "ap-d1-t1-v1", "dept_yjj")
    engine.change_organisation("rename_grid", "ap-d1-t1-v1", "南门社区（新）")
    grid = {g["code"]: g for g in engine.grids()}["ap-d1-t1-v1"]
    assert grid["name"] == "南门社区（新）"
    assert engine.instance(case)["status"] == "running"
