"""The administrator in chromium: lands on the process files, validates an uploaded decision
table and sees its problem by element, deploys a changed one with a comment (confirming), and
rolls back to the earlier version; new cases follow each deployment."""

from __future__ import annotations

import pytest

from tests.browser.people import Person
from tests.engine.test_deployment_versions import deadline_of_a_new_case, shorter_deadline
from tests.web.test_admin_processes import BROKEN

pytestmark = pytest.mark.slow


def upload(page, tmp_path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    page.set_input_files("#deploy-files", str(path))


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_an_administrator_validates_deploys_and_rolls_back(
    browser, server, shots, engine, tmp_path, locale
):
    admin = Person(browser, server, "admin", shots, locale=locale)
    page = admin.page
    assert page.url.endswith("/admin/")
    zh = locale == "zh-CN"
    admin.shot("process-files")

    upload(page, tmp_path, "dispatch.dmn", BROKEN.encode())
    page.click("button[name=check]")
    problem = page.locator("table.problems tr.error").first
    assert "dispatch.dmn" in problem.inner_text() and "__import__" in problem.inner_text()
    admin.shot("problems")

    name, content = shorter_deadline()
    upload(page, tmp_path, name, content)
    page.fill("#deploy-comment", "期限缩短为7天")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("button[name=deploy]")
    assert asked and len(engine.deployments()) == 1  # dismissed: nothing deployed
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=deploy]")
    page.wait_for_load_state()
    assert ("已部署为第 2 次部署" if zh else "Deployed as deployment 2") in page.inner_text("main")
    assert "期限缩短为7天" in page.inner_text("#deployment-2")
    assert deadline_of_a_new_case(engine) == 7
    admin.shot("deployed")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#deployment-1 form button")
    page.wait_for_load_state()
    assert page.locator("#deployment-3").count() == 1
    assert deadline_of_a_new_case(engine) == 10
