"""The administrator edits process files in chromium, in the vendored modelers, under the
site's Content-Security-Policy: a deadline in the dispatch table through dmn-js (validated,
compared, deployed: new cases get it, a case started before keeps the old one), a task's
`candidates` through the BPMN properties panel, a draft with a problem marked on its element,
a form's JSON Schema with its live preview. The draft stays in the browser until deployed."""

from __future__ import annotations

import pytest

from tests.browser.people import Person
from tests.browser.test_admin import fits_a_phone
from tests.helpers import accept, open_task, report, to_rectify

pytestmark = pytest.mark.slow
CATEGORY = "construction"  # 建筑施工: 10 working days for a general hazard in dispatch.dmn
DEADLINE_CELL = 'td[data-row-id="rule_construction_general"][data-col-id="output_deadline_days"]'
CANDIDATES = '["dept:" + department, "role:dispatcher"]'


def watch(page) -> list[str]:
    """What went wrong in the page: refusals of the CSP and script errors."""
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def open_editor(page, name: str) -> None:
    page.click(f"#deployment-{newest(page)} a[href$='/admin/files/{name}']")
    page.wait_for_selector("#file-editor[data-ready=true]")


def newest(page) -> str:
    return page.locator("section.deployment").first.get_attribute("id").split("-")[1]


def draft_of(page, name: str) -> str | None:
    return page.evaluate(f"localStorage.getItem('hazardflow.draft:{name}')")


def deploy(page, comment: str) -> None:
    page.fill("#deploy-comment", comment)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=deploy]")
    page.wait_for_selector("#file-editor[data-ready=true]")


def find(page, element_id: str) -> None:
    """Select an element by the modeler's find box (a process has a hundred of them)."""
    page.fill("#find-element", element_id)
    page.press("#find-element", "Enter")
    page.wait_for_selector(f".djs-element.selected[data-element-id='{element_id}']")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_deadline_changed_in_the_dmn_table_reaches_new_cases_only(
    browser, server, shots, engine, locale
):
    zh = locale == "zh-CN"
    before = report(engine, category=CATEGORY)  # started on version 1, classified later
    admin = Person(browser, server, "admin", shots, locale=locale)
    page = admin.page
    problems = watch(page)
    open_editor(page, "dispatch.dmn")
    assert fits_a_phone(page)
    admin.shot("dmn-editor")

    page.click(f"{DEADLINE_CELL} [contenteditable]")
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    page.wait_for_function(
        "() => document.getElementById('file-content').value.includes('<text>12</text>')"
    )
    assert '"base":1' in draft_of(page, "dispatch.dmn")  # kept in the browser meanwhile

    page.click("button[name=check]")
    page.wait_for_selector("#file-editor[data-ready=true]")
    answer = page.inner_text(".check-answer")
    assert ("未发现问题" if zh else "No problems found") in answer
    (row,) = [line for line in answer.splitlines() if "rule_construction_general" in line]
    assert '"zjj" | 10 | 2 | 3 → "construction" | "general" | "zjj" | 12 | 2 | 3' in row
    assert "hitPolicy" not in answer and "content changed" not in answer  # dmn-js's way of saving
    assert page.locator(f"{DEADLINE_CELL}").inner_text().strip() == "12"  # the draft, still open
    assert len(engine.deployments()) == 1
    assert fits_a_phone(page)
    admin.shot("dmn-checked")

    deploy(page, "建筑施工一般隐患期限改为12个工作日")
    assert ("已部署为第 2 次部署" if zh else "Deployed as deployment 2") in page.inner_text("main")
    assert draft_of(page, "dispatch.dmn") is None  # deployed: no draft left
    assert page.locator(f"{DEADLINE_CELL}").inner_text().strip() == "12"  # the new version
    admin.shot("dmn-deployed")
    assert problems == []

    accept(engine, before, category=CATEGORY)
    assert engine.instance(before)["data"]["deadline_days"] == 10  # stays on its version
    after = report(engine, category=CATEGORY)
    accept(engine, after, category=CATEGORY)
    assert engine.instance(after)["data"]["deadline_days"] == 12
    newest_deployment = engine.deployments()[0]
    assert newest_deployment["comment"] == "建筑施工一般隐患期限改为12个工作日"
    assert newest_deployment["deployed_by"] == "admin"
    assert len(newest_deployment["files"]) == len(engine.deployments()[1]["files"])  # kept
    admin.context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_tasks_candidates_changed_in_the_properties_panel(browser, server, shots, engine, locale):
    admin = Person(browser, server, "admin", shots, locale=locale)
    page = admin.page
    problems = watch(page)
    open_editor(page, "hazard.bpmn")
    admin.shot("bpmn-editor")
    find(page, "rectify")
    assert page.inner_text("#element-properties [data-element-id]") == "rectify"
    assert page.input_value("#prop-candidates") == '["dept:" + department]'
    assert page.input_value("#prop-form") == "rectify"
    assert page.locator("#prop-script").is_hidden()  # a user task has no script
    page.fill("#prop-candidates", CANDIDATES)
    page.press("#prop-candidates", "Tab")
    page.wait_for_function(
        "() => document.getElementById('file-content').value.includes('role:dispatcher')"
    )
    assert page.input_value("#prop-candidates") == CANDIDATES
    admin.shot("bpmn-properties")

    find(page, "lane_department")  # a lane: its role and the role's name for people
    assert page.input_value("#prop-role") == "department"
    assert page.input_value("#prop-role_title") == "责任部门"
    assert page.locator("#prop-candidates").is_hidden()

    page.click("button[name=check]")
    page.wait_for_selector("#file-editor[data-ready=true]")
    answer = page.inner_text(".check-answer")
    assert f'candidates: ["dept:" + department] → {CANDIDATES}' in answer
    assert "layout" not in answer and "content changed" not in answer
    admin.shot("bpmn-checked")
    deploy(page, "整改也可由调度员办理")
    assert len(engine.deployments()) == 2
    assert problems == []
    admin.context.close()

    case = to_rectify(engine)  # on the new version: the dispatcher may work the rectification
    assert open_task(engine, "dispatcher", case, "rectify")["task_name"] == "rectify"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_draft_with_a_problem_marks_its_element(browser, server, shots, engine, locale):
    admin = Person(browser, server, "admin", shots, locale=locale)
    page = admin.page
    problems = watch(page)
    open_editor(page, "hazard.bpmn")
    find(page, "classify")
    page.fill("#prop-queue", "__import__('os').name")
    page.press("#prop-queue", "Tab")
    page.wait_for_function(
        "() => document.getElementById('file-content').value.includes('__import__')"
    )
    page.click("button[name=check]")
    page.wait_for_selector("#file-editor[data-ready=true]")
    row = page.locator("table.problems tr[data-element=classify]")
    assert "__import__" in row.inner_text()
    shape = page.locator(".djs-element[data-element-id=classify]")
    assert "hf-problem" in shape.get_attribute("class")  # marked in the diagram
    assert page.locator(".djs-overlay-hf-problem .hf-problem-badge").count() == 1
    assert page.locator(".djs-element.selected").count() == 0
    row.locator("[data-show-element]").click()
    page.wait_for_selector(".djs-element.selected[data-element-id=classify]")
    assert page.input_value("#prop-queue") == "__import__('os').name"
    assert fits_a_phone(page)
    admin.shot("bpmn-problem")

    page.fill("#deploy-comment", "不应部署")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=deploy]")
    page.wait_for_selector("#file-editor[data-ready=true]")
    assert ("未部署" if locale == "zh-CN" else "Not deployed") in page.inner_text("main")
    assert len(engine.deployments()) == 1  # all or nothing
    assert "__import__" in draft_of(page, "hazard.bpmn")  # the draft is still there

    # Leaving with a draft asks first; back later, the draft comes back until discarded.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.click(".crumbs a")
    page.wait_for_url("**/admin/")
    assert asked == ["beforeunload"]
    open_editor(page, "hazard.bpmn")
    assert page.locator(".draft-notice").is_visible()
    assert "__import__" in page.input_value("#file-content")
    page.click("[data-draft-discard]")
    page.wait_for_selector("#file-editor[data-ready=true]")
    assert draft_of(page, "hazard.bpmn") is None
    assert "__import__" not in page.input_value("#file-content")
    assert problems == []
    admin.context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_form_schema_with_its_live_preview(browser, server, shots, engine, locale):
    admin = Person(browser, server, "admin", shots, locale=locale)
    page = admin.page
    problems = watch(page)
    open_editor(page, "forms/receive.json")
    page.wait_for_selector("#form-preview form.preview")
    assert page.locator("#form-preview [data-field=decision]").count() == 1
    reason = page.locator("#form-preview [data-field=reason]")
    assert reason.is_hidden()  # asked for only when returning: the same rule as the task page
    page.locator("#form-preview [data-field=decision] input[value=return]").check()
    assert reason.is_visible()

    schema = page.input_value("#file-content")
    page.fill("#file-content", schema.replace('"部门退回理由"', '"不属于本部门的理由"'))
    page.wait_for_selector("#form-preview label:has-text('不属于本部门的理由')")  # redrawn
    lines = schema.count("\n") + 1
    assert page.inner_text(".gutter").split() == [str(n) for n in range(1, lines + 1)]
    admin.shot("form-editor")
    page.fill("#file-content", schema.replace('"properties": {', '"properties": {,', 1))
    page.wait_for_selector("#form-preview .preview-problems")
    assert "JSON" in page.inner_text("#form-preview")
    assert fits_a_phone(page)
    admin.shot("form-broken")
    assert problems == []
    admin.context.close()


def test_a_decision_cell_with_a_problem_marks_its_row(browser, server, shots, engine):
    admin = Person(browser, server, "admin", shots, locale="en")
    page = admin.page
    problems = watch(page)
    open_editor(page, "dispatch.dmn")
    page.click(
        f"{DEADLINE_CELL.replace('construction_general', 'transport_major')} [contenteditable]"
    )
    page.keyboard.press("Control+A")
    page.keyboard.type("__import__('os')")
    page.wait_for_function(
        "() => document.getElementById('file-content').value.includes('__import__')"
    )
    page.click("button[name=check]")
    page.wait_for_selector("#file-editor[data-ready=true]")
    assert "rule 14" in page.inner_text("table.problems tr[data-element=dispatch]")
    row = page.locator('td.rule-index[data-row-id="rule_transport_major"]')
    marked = "rgb(253, 236, 234)"  # the problem's row, whatever dmn-js redraws
    assert row.evaluate("(cell) => getComputedStyle(cell).backgroundColor") == marked
    assert page.locator(".modeler-views button.has-problem").count() == 1
    page.evaluate("window.scrollTo(0, 0)")
    page.click("table.problems [data-show-element]")
    page.wait_for_function(
        "() => document.activeElement.closest('td')?.dataset.rowId === 'rule_transport_major'"
    )
    admin.shot("dmn-problem")
    assert problems == []
    admin.context.close()
