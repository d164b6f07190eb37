"""One process file edited in the browser, over real HTTP as the page sends it (the editors'
scripts only fill the text field): the newest deployment's file in its editor, a draft
validated with its problems by element and compared, deployed on top of the newest deployment
(its other files kept), a form drawn from a draft; a file the deployment does not have is 404."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import PROCESSES
from tests.engine.test_deployment_versions import deadline_of_a_new_case, shorter_deadline
from tests.web.test_admin_processes import BROKEN

pytestmark = pytest.mark.slow
DISPATCH = "/admin/files/dispatch.dmn"


def posted(admin, path: str, content: str, **fields):
    page = admin.get(DISPATCH)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    return admin.session.post(
        admin.base + path,
        files={"content": (None, content)},  # the page sends multipart, as an upload does
        data={"csrf_token": token, **fields},
        allow_redirects=False,
        timeout=60,
    )


def text_field(page: str) -> str:
    found = re.search(r'<textarea id="file-content"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    return html.unescape(found.group(1))


def test_a_file_opens_in_its_editor_and_an_unknown_one_is_not_found(web_user):
    admin = web_user("admin")
    page = admin.get(DISPATCH)
    assert page.status_code == 200 and 'data-editor="dmn"' in page.text
    assert text_field(page.text) == (PROCESSES / "dispatch.dmn").read_text(encoding="utf-8")
    assert 'data-editor="bpmn"' in admin.get("/admin/files/hazard.bpmn").text
    assert 'data-editor="form"' in admin.get("/admin/files/forms/receive.json").text
    assert 'data-editor="text"' in admin.get("/admin/files/forms/_defs.json").text
    assert 'data-editor="text"' in admin.get("/admin/files/calendar.yaml").text
    assert admin.get("/admin/files/nothing.bpmn").status_code == 404
    assert admin.get("/admin/files/../config.yaml").status_code == 404
    index = admin.get("/admin/").text
    assert 'href="/admin/files/forms/report.json"' in index  # every file of the newest


def test_a_draft_is_validated_by_element_compared_and_deployed_on_the_newest(web_user, engine):
    admin = web_user("admin")
    refused = posted(admin, DISPATCH + "/check", BROKEN, base="1")
    assert refused.status_code == 422
    row = re.search(
        r'<tr class="error" data-element="dispatch"[^>]*>(.*?)</tr>', refused.text, re.S
    )
    assert row and "__import__" in row.group(1) and "data-show-element" in row.group(1)
    assert text_field(refused.text) == BROKEN  # the draft comes back, not the deployed file

    draft = shorter_deadline()[1].decode()
    fine = posted(admin, DISPATCH + "/check", draft, base="1")
    assert fine.status_code == 200 and "未发现问题" in fine.text
    assert "rule_hazardous_chemicals_general" in fine.text and "10 | 2 | 3 →" in fine.text
    assert len(engine.deployments()) == 1

    not_deployed = posted(admin, DISPATCH + "/deploy", BROKEN, base="1", comment="坏")
    assert not_deployed.status_code == 422 and "未部署" in not_deployed.text
    done = posted(admin, DISPATCH + "/deploy", draft, base="1", comment="期限缩短为7天")
    assert done.status_code == 302 and done.headers["Location"].endswith(DISPATCH + "?deployed=2")
    newest, first = engine.deployments()
    assert newest["comment"] == "期限缩短为7天" and newest["files"] == first["files"]
    assert deadline_of_a_new_case(engine) == 7
    page = admin.get(DISPATCH + "?deployed=2").text
    assert "data-deployed" in page and "已部署为第 2 次部署" in page  # the page drops the draft
    assert "data-deployed" not in admin.get(DISPATCH + "?deployed=1").text

    # A draft begun on deployment 1 goes on top of deployment 2 now, and says so.
    again = posted(admin, DISPATCH + "/check", draft.replace(">7<", ">8<"), base="1")
    assert "第 2 次部署" in again.text and "第 1 次部署开始编辑" in again.text
    assert "7 | 2 | 3 →" in again.text  # compared with what is deployed now


def test_a_problem_is_said_in_the_readers_language(web_user):
    """The engine words its findings in English with their parts apart; a Chinese page says
    them in Chinese, the nested parts too (which cell, what the sandbox refused)."""
    admin = web_user("admin")

    def problem() -> str:
        refused = posted(admin, DISPATCH + "/check", BROKEN, base="1")
        row = re.search(
            r'<tr class="error" data-element="dispatch"[^>]*>(.*?)</tr>', refused.text, re.S
        )
        assert refused.status_code == 422 and row
        return html.unescape(re.sub(r"<[^>]+>", "", row.group(1)))

    chinese = problem()
    assert "规则 1 的输出项" in chinese and "不允许" in chinese and "__import__" in chinese
    assert "not allowed" not in chinese and "output" not in chinese
    admin.session.headers["Accept-Language"] = "en"
    english = problem()
    assert "rule 1 output" in english and "not allowed" in english and "__import__" in english


def test_a_form_draft_is_drawn_as_the_task_pages_draw_it(web_user):
    admin = web_user("admin")
    receive = (PROCESSES / "forms" / "receive.json").read_text(encoding="utf-8")
    drawn = posted(admin, "/admin/files/forms/receive.json/preview", receive)
    assert drawn.status_code == 200 and 'data-field="decision"' in drawn.text
    assert "data-show-when" in drawn.text  # the reason, asked for when returning
    empty = posted(admin, "/admin/files/forms/dispatch.json/preview", "{}")
    assert "此表单没有需要填写的字段" in empty.text
    broken = posted(admin, "/admin/files/forms/receive.json/preview", receive[:-5])
    assert "preview-problems" in broken.text and "JSON" in broken.text
    ref = receive.replace('"_defs.json#/$defs/category"', '"_defs.json#/$defs/nope"')
    assert "nope" in posted(admin, "/admin/files/forms/receive.json/preview", ref).text
    assert posted(admin, DISPATCH + "/preview", "x").status_code == 404  # not a form
