"""The administrator in chromium: lands on the process files, validates an uploaded decision
table and sees its problem by element, deploys a changed one with a comment (confirming), and
rolls back to the earlier version; new cases follow each deployment."""

from __future__ import annotations

import pytest

from tests.browser.people import Person
from tests.engine.test_deployment_versions import deadline_of_a_new_case, shorter_deadline
from tests.helpers import open_task, to_rectify
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
    assert fits_a_phone(page)  # a page only a form's answer shows: the crawl cannot reach it
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


def fits_a_phone(page) -> bool:
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(size)
    return width <= 375


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_an_administrator_deactivates_an_officer_whose_claim_goes_back(
    browser, server, shots, engine, locale
):
    case = to_rectify(engine)
    task = open_task(engine, "dept_yjj", case, "rectify")
    engine.claim(task["id"], engine.actor("dept_yjj"))
    engine.new_token("dept_yjj", label="手机")
    admin = Person(browser, server, "admin", shots, locale=locale)
    page = admin.page
    page.click("header nav a[href$='/admin/users']")
    page.wait_for_url("**/admin/users")
    assert fits_a_phone(page)
    admin.shot("users")
    page.click("a[href$='/admin/users/dept_yjj']")
    page.wait_for_url("**/admin/users/dept_yjj")
    assert "手机" in page.inner_text("table.tokens")
    admin.shot("user")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=deactivate]")
    page.wait_for_load_state()
    said = page.inner_text("main")
    assert ("已停用" if locale == "zh-CN" else "is deactivated") in said
    assert ("1 项任务" if locale == "zh-CN" else "1 task they had claimed") in said
    assert page.locator("table.tokens").count() == 0  # revoked with the deactivation
    assert fits_a_phone(page)
    admin.shot("deactivated")
    back = [t for t in engine.instance(case)["open_tasks"] if t["id"] == task["id"]][0]
    assert back["assignee"] is None
    page.click("button[name=reactivate]")
    page.wait_for_load_state()
    assert page.locator("button[name=deactivate]").count() == 1
