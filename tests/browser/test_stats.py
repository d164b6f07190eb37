"""The 考核 page in Debian's chromium, at 1280 and 375 px, in Chinese and English: the seeded
cases' figures in the table and the cards, the charts drawn by the vendored ECharts (no
console error: the CSP lets it run), nothing wider than the screen, and a count that opens
its cases."""

from __future__ import annotations

import re

import pytest

from tests.browser.people import Person
from tests.engine.test_stats import seeded  # noqa: F401  - the seeded cases

pytestmark = pytest.mark.slow
MARCH = "/stats?by=department&from=2026-03-01&to=2026-03-31"


def cell(person: Person, row: str, column: int) -> str:
    """The text of a column (1: the first figure) of the table row named `row`."""
    line = person.page.locator("table.stats-table tbody tr", has_text=row).first
    return line.locator("td").nth(column - 1).inner_text().strip()


def test_the_page_shows_the_figures_and_draws_the_charts(browser, server, shots, seeded):  # noqa: F811
    dispatcher = Person(browser, server, "dispatcher", shots)
    errors: list[str] = []
    dispatcher.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page = dispatcher.page
    page.click("a[href='/stats']")  # the menu's link
    page.goto(server.url + MARCH)
    assert page.inner_text("h1") == "考核统计"
    assert cell(dispatcher, "应急管理局", 2) == "5"  # dispatched
    assert cell(dispatcher, "应急管理局", 6) == "60.0%"  # on-time rate
    assert cell(dispatcher, "应急管理局", 7) == "1"  # overdue now
    assert cell(dispatcher, "合计", 2) == "7"
    page.wait_for_selector("#chart-rows svg")
    page.wait_for_selector("#chart-trend svg")
    assert page.locator("#chart-rows svg path").count() > 8  # bars and axes
    dispatcher.shot("stats-departments")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1280, "height": 900})
    line = page.locator("table.stats-table tbody tr", has_text="应急管理局").first
    line.locator("td").nth(4).locator("a").click()  # on time: 3
    page.wait_for_url(re.compile(r".*/cases\?.*stat=on_time"))
    assert page.locator("li.case-card").count() == 3
    assert "按期整改数" in page.inner_text(".stat-caption")
    assert errors == []


def test_a_leader_sees_their_grids_on_a_phone_in_english(browser, server, shots, seeded):  # noqa: F811
    leader = Person(browser, server, "leader_ap_d2", shots, width=375, locale="en")
    page = leader.page
    page.goto(server.url + MARCH.replace("department", "grid"))
    assert page.inner_text("h1") == "Assessment statistics"
    rows = page.locator("table.stats-table tbody th.stats-name").all_inner_texts()
    assert rows[0] == "西山县" and "Total" in rows[-1]
    assert not any("东城区" in r for r in rows)
    assert cell(leader, "青石村", 2) == "1"  # D, in ap-d2-t1-v1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    leader.shot("stats-leader-en")
