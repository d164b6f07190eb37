"""The administrator moves running cases over real HTTP: validating new files shows what they
change (the dispatch table's row with its old and new cells), and after the deploy the
migration page previews each running case, moves the chosen ones with a comment and tells
why a case cannot move."""

from __future__ import annotations

import pytest

from tests.engine.test_deployment_versions import shorter_deadline
from tests.engine.test_migration import _edit, _remove_set_deadline
from tests.helpers import to_rectify
from tests.web.test_admin_processes import send

pytestmark = pytest.mark.slow


def test_validating_shows_what_the_files_change(web_user, engine):
    admin = web_user("admin")
    checked = send(admin, "/admin/deployments/check", [shorter_deadline()], base="1", on_top="1")
    assert checked.status_code == 200
    assert "这些文件的改动" in checked.text and "dispatch.dmn" in checked.text
    assert "rule_hazardous_chemicals_general" in checked.text
    row = checked.text.split("rule_hazardous_chemicals_general", 1)[1].split("</li>", 1)[0]
    assert "危险化学品 · 一般事故隐患 → 应急管理局" in row  # the rule's description
    assert row.index("&#34;yjj&#34; | 10 | 2 | 3") < row.index("&#34;yjj&#34; | 7 | 2 | 3")
    assert len(engine.deployments()) == 1  # validating stores nothing


def test_the_migration_page_moves_the_chosen_cases(web_user, engine, folder):
    first, second = to_rectify(engine), to_rectify(engine)
    hazard = folder / "hazard.bpmn"
    hazard.write_text(hazard.read_text().replace('name="整改">', 'name="整改落实">', 1))
    engine.deploy([folder])
    admin = web_user("admin")
    index = admin.get("/admin/").text
    assert "/admin/processes/hazard_handling/migrate" in index
    page = admin.get("/admin/processes/hazard_handling/migrate")
    assert "安全隐患闭环处置" in page.text  # the process by its name, not only its id
    assert page.status_code == 200
    assert "1 → 2" in page.text and "rectify（整改）采用新定义" in page.text  # in Chinese
    numbers = [engine.case_number(first), engine.case_number(second)]
    assert all(n in page.text for n in numbers)

    moved = admin.post(
        "/admin/processes/hazard_handling/migrate",
        {"case": [str(first)], "comment": "整改环节改名"},
        page=page,
    )
    assert moved.status_code == 302
    assert engine.instance(first)["version"] == 2 and engine.instance(second)["version"] == 1
    after = admin.get("/admin/processes/hazard_handling/migrate")
    assert "1 个案件已迁移" in after.text
    assert engine.case_number(first) not in after.text  # on the newest version now
    case_page = admin.get(f"/cases/{first}").text
    assert "将案件迁移到新的流程版本" in case_page and "整改环节改名" in case_page

    nothing = admin.post("/admin/processes/hazard_handling/migrate", {}, page=after)
    assert nothing.status_code == 302
    assert "请选择要迁移的案件" in admin.get("/admin/processes/hazard_handling/migrate").text


def test_a_case_that_cannot_move_says_why_and_has_no_box(web_user, engine, folder):
    case = to_rectify(engine)
    _edit(folder, _remove_set_deadline)
    engine.deploy([folder])
    page = web_user("admin", "en").get("/admin/processes/hazard_handling/migrate").text
    assert "Cannot move" in page and "set_deadline" in page
    assert f'name="case" value="{case}"' not in page


def test_only_administrators(web_user, engine):
    assert web_user("dispatcher").get("/admin/processes/hazard_handling/migrate").status_code == 403
