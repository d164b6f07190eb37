"""The header's case-number box and the case list in a real browser, at 375 and 1280 px,
in Chinese and in English: a number opens its case, words search the list, an unknown
number is the 404 page; nothing is wider than the screen. Screenshots in test-output/."""

from __future__ import annotations

import re

import pytest

from tests.browser.people import Person
from tests.helpers import close_invalid, report

pytestmark = pytest.mark.slow

TEXTS = {
    "zh": {"case": "案件", "cases": "案件", "missing": "没有您可查看的案件", "open": "打开"},
    "en": {"case": "Case", "cases": "Cases", "missing": "There is no case", "open": "Open"},
}


def fits(page) -> bool:
    """No sideways scrolling: the page is no wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_number_box_and_the_list_at_both_widths_in_both_languages(
    browser, server, engine, shots
):
    warehouse = report(engine)
    report(engine, unit="北关加油站", description="油罐区未设置围栏，3号加油机漏油")
    closed = report(engine, unit="南门五金店", description="店内私拉电线")
    close_invalid(engine, closed)
    number = engine.case_number(warehouse)
    for language in ("zh", "en"):
        texts = TEXTS[language]
        for width in (375, 1280):
            person = Person(browser, server, "dispatcher", shots, width=width)
            page = person.page
            name = f"{language}-{width}"
            if language == "en":
                page.click("header.top .lang button")
                page.wait_for_load_state()
            box = page.locator("header.top form.case-go input[name=number]")
            assert box.is_visible() and box.get_attribute("placeholder").startswith("YH-")
            left_edge = box.bounding_box()
            assert left_edge["x"] >= 0 and left_edge["x"] + left_edge["width"] <= width
            assert page.locator("header.top nav a", has_text=texts["cases"]).count() >= 1
            button = page.locator("header.top form.case-go button")
            assert button.inner_text().strip() == texts["open"]

            # a number, typed as people type it, opens the case
            box.fill(number.lower().replace("-", " "))
            box.press("Enter")
            page.wait_for_url(re.compile(rf".*/cases/{warehouse}$"))
            heading = page.locator("main h1").inner_text()
            assert texts["case"] in heading and number in heading
            assert fits(page), f"case page wider than {width} px"
            page.screenshot(path=str(shots / f"case-{name}.png"), full_page=True)

            # words search the list: open and closed cases alike
            box = page.locator("header.top form.case-go input[name=number]")
            box.fill("南门")
            box.press("Enter")
            page.wait_for_url(re.compile(r".*/cases\?q=.*"))
            cards = page.locator("ol.case-list li.case-card")
            assert cards.count() == 2
            assert cards.first.locator("a.case-number").inner_text() == engine.case_number(closed)
            assert page.input_value("#case-q") == "南门"
            assert fits(page), f"case list wider than {width} px"
            for card in cards.all():
                right = card.bounding_box()
                assert right["x"] >= 0 and right["x"] + right["width"] <= width
            page.screenshot(path=str(shots / f"search-{name}.png"), full_page=True)
            page.click("details.case-filters summary")  # the queue's filters, sort, page size
            page.select_option("select[name=category]", "hazardous_chemicals")
            assert fits(page), f"filters wider than {width} px"
            page.screenshot(path=str(shots / f"filters-{name}.png"), full_page=True)
            page.click("details.case-filters button")
            page.wait_for_url(re.compile(r".*category=hazardous_chemicals.*"))
            assert page.locator("ol.case-list li.case-card").count() == 2

            # the list's own search and a status tab
            page.fill("#case-q", "油罐")
            page.press("#case-q", "Enter")
            page.wait_for_url(re.compile(r".*q=.*"))
            assert page.locator("ol.case-list li.case-card").count() == 1
            page.goto(server.url + "/cases")
            assert page.locator("ol.case-list li.case-card").count() == 2  # the open ones
            page.locator("nav.tabs a").nth(1).click()  # closed
            page.wait_for_url(re.compile(r".*status=closed.*"))
            assert page.locator("ol.case-list li.case-card").count() == 1
            assert fits(page)
            page.screenshot(path=str(shots / f"closed-{name}.png"), full_page=True)

            # a number no case has: the 404 page, in the reader's language
            box = page.locator("header.top form.case-go input[name=number]")
            box.fill("YH-2026-424242")
            box.press("Enter")
            page.wait_for_load_state()
            assert page.locator(".error-page[data-status='404']").count() == 1
            assert texts["missing"] in page.locator("main").inner_text()
            assert fits(page)
            page.screenshot(path=str(shots / f"missing-{name}.png"), full_page=True)
            person.context.close()
