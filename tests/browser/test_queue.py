"""The work queue as a dispatcher uses it: what each row says, several tasks at once, and a
催办 to a department from the case page."""

from __future__ import annotations

import pytest

from tests.browser.people import Person
from tests.helpers import accept, open_task, report, to_rectify

pytestmark = pytest.mark.slow


def test_rows_say_what_each_case_is_and_several_are_claimed_and_handed_over(
    browser, server, shots, engine
):
    major = report(
        engine, description="仓库内危化品混存，未设置防火隔离，紧邻居民楼，存在重大火灾隐患"
    )
    accept(engine, major, grade="major")  # 挂牌督办, now waiting for dispatch
    plain = [report(engine, grid="ap-d2-t1-v1", unit=f"石桥村商店{i}") for i in range(3)]
    dispatcher = Person(browser, server, "dispatcher", shots)
    page = dispatcher.page
    page.goto(server.url + "/queue")

    def row_of(case: int):
        return page.locator("table.queue tr", has_text=engine.case_number(case))

    row = row_of(major)
    text = row.inner_text()
    assert "南门化工仓库" in text and "仓库内危化品混存" in text  # the unit and the gist
    assert "重大事故隐患" in text and "挂牌督办" in text and "南门社区" in text  # the marks
    assert row.locator(".mark-grade-major").count() == 1
    dispatcher.shot("queue-marks")

    for case in plain[:2]:
        page.locator("table.queue tr", has_text=engine.case_number(case)).locator(
            "input[name=task]"
        ).check()
    page.click("form#bulk button:text-is('领取')")
    page.wait_for_load_state()
    assert "已办理 2 项任务" in page.inner_text("main")
    for case in plain[:2]:
        claimed = row_of(case).inner_text()
        assert "安委办调度员" in claimed  # the claimant by name, not the user name
    page.locator("table.queue tr", has_text=engine.case_number(plain[2])).locator(
        "input[name=task]"
    ).check()
    page.locator("table.queue tr", has_text=engine.case_number(plain[0])).locator(
        "input[name=task]"
    ).check()
    page.select_option("form#bulk select[name=to]", "dispatcher2")
    page.fill("form#bulk input[name=comment]", "下午外出")
    page.click("form#bulk button:text-is('转办')")
    page.wait_for_load_state()
    assert "已办理 2 项任务" in page.inner_text("main")
    for case in (plain[0], plain[2]):
        assert open_task(engine, "dispatcher2", case, "classify")["assignee"] == "dispatcher2"
    dispatcher.shot("queue-handed-over")


def test_the_dispatcher_urges_a_department_from_the_case_page(browser, server, shots, engine):
    case = to_rectify(engine)
    dispatcher = Person(browser, server, "dispatcher", shots, width=375)
    page = dispatcher.page
    page.goto(f"{server.url}/cases/{case}")
    page.fill("form.urge input[name=comment]", "请本周内反馈整改进展")
    page.click("form.urge button")
    page.wait_for_load_state()
    assert "已催办" in page.inner_text("main")
    assert "请本周内反馈整改进展" in page.locator(".timeline").inner_text()
    dispatcher.shot("case-urged")
    inbox = engine.notifications(engine.actor("dept_yjj"))["items"]
    assert inbox[0]["kind"] == "reminder" and "请本周内反馈整改进展" in inbox[0]["text"]
    # the department itself works the task: no 催办 for them, only the link
    officer = Person(browser, server, "dept_yjj", shots)
    officer.page.goto(f"{server.url}/cases/{case}")
    assert officer.page.locator("form.urge").count() == 0


def test_an_empty_queue_offers_nothing_to_select(browser, server, shots, engine):
    officer = Person(browser, server, "dept_fgj", shots, width=375)
    page = officer.page
    page.goto(server.url + "/queue")
    assert "暂无待办" in page.inner_text("main")
    assert not page.locator("form#bulk").is_visible()  # no 领取/转办 bar over an empty list
    page.evaluate("window.refreshQueue()")
    page.wait_for_timeout(300)
    assert not page.locator("form#bulk").is_visible()
