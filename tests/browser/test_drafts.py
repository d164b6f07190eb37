"""Drafts, as the department officer who hit them: saving one changes nothing about the task,
and the whole form comes back, for them only."""

from __future__ import annotations

import pytest

from tests.browser.people import Person, photo
from tests.helpers import open_task_names, to_rectify

pytestmark = pytest.mark.slow


def test_a_draft_changes_nothing_and_comes_back_whole(browser, server, shots, engine, tmp_path):
    case = to_rectify(engine, grade="major")
    before = len(engine.history(case))
    officer = Person(browser, server, "dept_yjj", shots)
    page = officer.page
    officer.open_task(case, "整改")
    task_url = page.url
    page.check("input[name=action][value=report]")
    page.fill("textarea[name=measures]", "停产整顿，拆除违规储罐")
    page.fill("input[name=funds]", "120000")
    page.fill("input[name=completed_on]", "2026-03-20")
    page.fill("[id='f-plan.measures']", "分三期拆除储罐")
    page.fill("[id='f-plan.funds']", "500000")
    page.set_input_files(
        "input[name=rectify_photos__upload]", str(photo(tmp_path / "after.png", "green"))
    )
    # then the officer decides to ask for more time instead, and keeps it for later
    page.check("input[name=action][value=extend]")
    page.fill("input[name=new_deadline]", "2026-04-30")
    page.fill("textarea[name=extension_reason]", "需停产检修，等待设备到货")
    page.click("button:text-is('保存草稿')")
    page.wait_for_load_state()
    assert "草稿已保存" in page.inner_text("main")
    officer.shot("draft-saved")

    # nothing about the case moved: no completion, no extension request for the dispatcher
    assert open_task_names(engine, case) == ["rectify"]
    assert len(engine.history(case)) == before
    assert page.url == task_url

    def filled_in(p) -> None:
        assert p.is_checked("input[name=action][value=extend]")
        assert p.input_value("input[name=new_deadline]") == "2026-04-30"
        assert p.input_value("textarea[name=extension_reason]") == "需停产检修，等待设备到货"
        assert p.input_value("textarea[name=measures]") == "停产整顿，拆除违规储罐"
        assert p.input_value("input[name=funds]") == "120000"
        assert p.input_value("input[name=completed_on]") == "2026-03-20"
        assert p.input_value("[id='f-plan.measures']") == "分三期拆除储罐"
        assert p.input_value("[id='f-plan.funds']") == "500000"
        # the photo uploaded with the draft, as a picture, kept for the submission
        assert p.locator("input[type=hidden][name=rectify_photos]").count() == 1
        thumb = p.locator("[data-field=rectify_photos] img.thumb")
        assert thumb.count() == 1
        assert p.evaluate("(img) => img.naturalWidth", thumb.element_handle()) == 64

    filled_in(page)  # straight after saving
    again = officer.context.new_page()  # and when the officer comes back to it
    again.goto(task_url)
    assert "草稿" in again.inner_text("main")
    filled_in(again)
    officer.shot("draft-restored")

    # a colleague of the same department opens the task without the officer's draft
    colleague = Person(browser, server, "dept_yjj2", shots)
    colleague.page.goto(task_url)
    assert colleague.page.input_value("textarea[name=extension_reason]") == ""
    assert not colleague.page.is_checked("input[name=action][value=extend]")

    # submitting the restored draft sends what it holds: the extension request
    again.click("form[action$='/complete'] button.primary")
    again.wait_for_load_state()
    # (a supervise task of an overdue case stays open through the request)
    names = [n for n in open_task_names(engine, case) if n != "supervise"]
    assert names == ["approve_extension"]
