"""A whole case done by four people in the browser, phone-sized where the grid member works."""

from __future__ import annotations

import re

import pytest

from tests.browser.people import Person, photo
from tests.helpers import MEMBER

pytestmark = pytest.mark.slow


def test_report_to_archive_by_four_people(browser, server, shots, tmp_path):
    member = Person(
        browser,
        server,
        MEMBER,
        shots,
        width=375,
        geolocation={"latitude": 28.228209, "longitude": 112.938814},
        permissions=["geolocation"],
    )
    page = member.page
    page.goto(server.url + "/report/hazard_handling")
    assert page.input_value("select[name=grid]") == "ap-d1-t1-v1"  # the member's own grid
    page.fill("input[name=unit]", "南门烟花店")
    page.select_option("select[name=category]", "fireworks")
    page.fill("textarea[name=description]", "店内超量存放烟花，紧邻住宅")
    page.set_input_files("input[name=photos__upload]", str(photo(tmp_path / "p.png", "red")))
    page.click("button:text-is('使用当前位置')")  # the phone's position, not typed
    page.wait_for_function("document.getElementById('f-location.lat').value !== ''")
    assert page.input_value("[id='f-location.lng']") == "112.938814"
    member.shot("report")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    case = int(page.url.rsplit("/", 1)[1])
    assert page.locator("img.thumb").count() == 1
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.locator('[data-element-id="classify"].hf-now').count() == 1  # where it is now
    assert page.locator('[data-element-id="report"].hf-done').count() == 1
    member.shot("case-reported")

    dispatcher = Person(browser, server, "dispatcher", shots)
    d = dispatcher.page
    d.goto(server.url + "/queue")
    dispatcher.shot("queue")
    dispatcher.open_task(case, "分类定级")
    d.check("input[name=outcome][value=accept]")
    d.check("input[name=grade][value=general]")
    dispatcher.shot("classify")
    dispatcher.submit()
    dispatcher.open_task(case, "派遣")
    assert d.input_value("select[name=department]") == "yjj"  # proposed by dispatch.dmn
    assert d.locator("[data-field=photos] img.thumb").count() == 1  # what was reported, seen
    dispatcher.shot("dispatch")
    dispatcher.submit()

    dept = Person(browser, server, "dept_yjj", shots)
    p = dept.page
    dept.open_task(case, "签收")
    p.check("input[name=decision][value=return]")
    p.fill("textarea[name=reason]", "烟花经营属应急局职责，请核实地址")
    dept.shot("receive-return")
    dept.submit()

    # The dispatcher's queue, open since the dispatch, learns of the return without a reload
    # and lists the case under its own tab.
    assert d.url.endswith("/queue")
    returned = "[data-count='queue:部门退回']"
    assert d.locator(returned).count() == 0
    assert not d.is_visible("#unread")  # nothing new for the dispatcher yet
    d.evaluate("refreshQueue()")  # what the page does every 20 s
    d.wait_for_selector(returned)
    assert d.text_content(returned) == "1"
    assert d.is_visible("#unread") and int(d.text_content("#unread")) >= 1  # the return notice
    d.click("nav.tabs a:has-text('部门退回')")
    dispatcher.shot("queue-returned")
    d.click("table.queue a:text-is('派遣')")
    d.wait_for_url(re.compile(r".*/tasks/.*"))
    assert "请核实地址" in d.content()  # the return reason is shown to the dispatcher
    dispatcher.submit()

    dept.open_task(case, "签收")
    p.check("input[name=decision][value=accept]")
    dept.submit()

    def rectify() -> None:
        dept.open_task(case, "整改")
        assert "现场照片" in p.inner_text("[data-field=photos]")  # what is to be put right
        assert p.locator("[data-field=photos] img.thumb").count() == 1
        p.check("input[name=action][value=report]")
        p.fill("textarea[name=measures]", "清理超量烟花，转移至合规仓库")
        p.fill("input[name=responsible_person]", "店主李某")
        p.fill("input[name=funds]", "3000")
        p.fill("input[name=completed_on]", "2026-03-06")
        p.set_input_files(
            "input[name=rectify_photos__upload]", str(photo(tmp_path / "after.png", "green"))
        )
        dept.shot("rectify")
        dept.submit()

    rectify()
    dispatcher.open_task(case, "复查核查")
    # the verifier compares: the report's photo under its label, the rectification's under its
    for name, label in (("photos", "现场照片"), ("rectify_photos", "整改后照片")):
        shown = d.locator(f"[data-field={name}]")
        assert label in shown.inner_text() and shown.locator("img.thumb").count() == 1, name
    d.check("input[name=passed][value=false]")
    d.fill("textarea[name=verify_opinion]", "仓库未取得许可，需重新整改")
    dispatcher.shot("verify-failed")
    dispatcher.submit()
    rectify()
    dispatcher.open_task(case, "复查核查")
    d.check("input[name=passed][value=true]")
    dispatcher.submit()

    d.goto(f"{server.url}/cases/{case}")
    d.wait_for_selector("#diagram[data-ready=true]")
    assert d.locator('[data-element-id="end_archived"].hf-done').count() == 1
    assert d.locator(".hf-now").count() == 0
    dispatcher.shot("case-archived")
    text = d.inner_text("main")
    assert "已结案" in text and "销号归档" in text  # closed at the archive end event
    timeline = d.locator(".timeline li")
    titles = timeline.all_inner_texts()
    for step in ("分类定级", "派遣", "签收", "整改", "复查核查"):
        assert any(step in t for t in titles), (step, titles)
    assert sum("复查核查" in t for t in titles) == 2
    assert any("请核实地址" in t for t in titles)  # the department's return reason stays on it
    assert d.locator("img.thumb").count() >= 1


def test_pages_without_sign_in_and_the_inbox_and_reports_lists(browser, server, shots, engine):
    from tests.helpers import report

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    for name, path in (("login", "/login"), ("public-report", "/public/report")):
        page.goto(server.url + path)
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    context.close()
    case = report(engine)
    member = Person(browser, server, MEMBER, shots, width=375)
    member.page.goto(server.url + "/my-reports")
    assert "分类定级" in member.page.inner_text("ul.cases")  # where the case is now
    member.shot("my-reports")
    from tests.helpers import accept, act

    accept(engine, case)
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 5})
    dept = Person(browser, server, "dept_yjj", shots)
    assert dept.page.inner_text("#unread") == "1"  # the assignment, counted in the header
    dept.page.click("header a[href$='/inbox']")
    dept.shot("inbox")
    assert "新交办隐患" in dept.page.inner_text("main")


def test_a_leader_sees_what_was_escalated_and_gives_instructions(
    browser, server, shots, engine, clock
):
    from datetime import timedelta

    from engine.clock import parse_iso
    from tests.helpers import to_rectify

    case = to_rectify(engine, grade="major")
    clock.set(parse_iso(engine.instance(case)["data"]["deadline"]) + timedelta(minutes=1))
    engine.fire_due_timers()
    leader = Person(browser, server, "leader_ap_d1_t1_v1", shots)
    page = leader.page
    page.goto(server.url + "/supervision")
    row = page.locator("table.queue tr", has_text=engine.case_number(case))
    assert "南门社区" in row.inner_text() and "村社区" in row.inner_text()
    leader.shot("supervision")
    row.locator("a:text-is('督办')").click()
    page.wait_for_url(re.compile(r".*/tasks/.*"))
    page.fill("textarea[name=instructions]", "三日内整改到位，每日报告进展")
    leader.shot("supervise")
    page.click("form[action$='/complete'] button.primary")
    page.wait_for_load_state()
    history = engine.history(case)
    assert history[-1]["action"] == "complete" and history[-1]["task_name"] == "supervise"
    # the instructions stay on the case's timeline, for the department and everyone after
    dept = Person(browser, server, "dept_yjj", shots)
    dept.page.goto(f"{server.url}/cases/{case}")
    last = dept.page.locator(".timeline li").last.inner_text()
    assert "督办" in last and "批示" in last and "三日内整改到位，每日报告进展" in last
    dept.shot("case-instructed")
