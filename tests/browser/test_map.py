"""The map of open hazards in Debian's chromium, at 1280 and 375 px, in Chinese and English:
the grids drawn from their outlines with no tile server and no request off the site, each
filled grid labelled with its open (and overdue) cases and coloured as the legend says, the
reported locations as points; a grid's popup leads to the case list with as many rows as
its number; a leader's map is their area."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.people import Person
from tests.web.test_map import cases_in_grids

pytestmark = pytest.mark.slow
VILLAGES = 8  # the demo's leaf grids


def cases_until_now(engine, clock) -> dict[str, int]:
    """The cases of tests/web/test_map.py, the last ones made now: the server's clock is the
    real one, and it must find overdue what the test made overdue, and only that."""
    clock.set(datetime.now(UTC) - timedelta(days=90))
    return cases_in_grids(engine, clock)


def watch(person: Person) -> tuple[list[str], list[str]]:
    """Every URL the page asks for, and every console error (a CSP refusal is one)."""
    requests: list[str] = []
    errors: list[str] = []
    person.page.on("request", lambda r: requests.append(r.url))
    person.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return requests, errors


def open_map(person: Person) -> None:
    person.page.goto(person.base + "/map")
    person.page.wait_for_selector("#hazard-map[data-ready='1']")


def label(person: Person, code: str) -> str:
    return person.page.inner_text(f".map-count[data-grid='{code}'] .map-count-n").strip()


def fits(person: Person) -> None:
    page = person.page
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{wide} px wide at {width}"
        box = page.locator("#hazard-map").bounding_box()
        column = page.locator("main h1").bounding_box()  # the page's text column
        assert box and column and box["width"] >= column["width"] - 1  # fills it
        assert box["height"] >= 280
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_map_shows_the_open_hazards_of_each_grid(browser, server, shots, engine, clock):
    made = cases_until_now(engine, clock)
    dispatcher = Person(browser, server, "dispatcher", shots)
    requests, errors = watch(dispatcher)
    open_map(dispatcher)
    page = dispatcher.page
    assert page.inner_text("h1") == "隐患地图"
    assert page.locator("path[data-filled='1']").count() == VILLAGES  # the deepest level
    assert label(dispatcher, "ap-d1-t1-v1") == "2 (1)"
    assert label(dispatcher, "ap-d1-t1-v2") == "1 (1)"
    assert label(dispatcher, "ap-d2-t1-v1") == "1" and label(dispatcher, "ap-d2-t2-v1") == "0"
    village = page.locator("path[data-grid='ap-d1-t1-v1']")
    assert village.get_attribute("stroke") == "#b91c1c"  # some overdue: a red edge
    legend_colour = page.evaluate(
        "getComputedStyle(document.querySelector('#map-legend .bin-1')).backgroundColor"
    )
    assert village.get_attribute("fill") == legend_colour  # 1–2 open, as the legend says
    assert page.locator(f".map-case[data-case='{made['located d2']}']").count() == 1
    dispatcher.shot("map-villages")

    page.click("#map-levels button[data-level='1']")  # the districts
    assert page.locator("path[data-filled='1']").count() == 2
    assert label(dispatcher, "ap-d1") == "3 (2)" and label(dispatcher, "ap-d2") == "2"
    assert page.get_attribute("#map-levels button[data-level='1']", "aria-pressed") == "true"
    dispatcher.shot("map-districts")
    fits(dispatcher)
    page.click("path[data-grid='ap-d1']")
    popup = page.locator(".map-popup[data-grid='ap-d1']")
    assert popup.locator("a.map-open").inner_text() == "3"
    assert popup.locator("a.map-overdue").inner_text() == "2"
    page.wait_for_selector("#hazard-map[data-ready='1']:not([data-moving])")  # the pan is over
    with page.expect_navigation(url=re.compile(r".*/cases\?.*overdue=1")):
        popup.locator("a.map-overdue").click()
    assert page.locator("li.case-card").count() == 2
    assert page.is_checked("input[name=overdue]")
    dispatcher.shot("cases-overdue")
    assert all(url.startswith(server.url + "/") for url in requests), [
        u for u in requests if not u.startswith(server.url)
    ]
    assert any(url.endswith("/map/data.json") for url in requests)
    assert errors == []


def test_a_leader_sees_their_area_on_a_phone_in_english(browser, server, shots, engine, clock):
    cases_until_now(engine, clock)
    leader = Person(browser, server, "leader_ap_d1_t1", shots, width=375, locale="en")
    requests, errors = watch(leader)
    page = leader.page
    page.click("a[href='/map']")  # the menu's link
    page.wait_for_selector("#hazard-map[data-ready='1']")
    assert page.inner_text("h1") == "Hazard map"
    filled = page.locator("path[data-filled='1']")
    assert sorted(filled.nth(i).get_attribute("data-grid") for i in range(filled.count())) == [
        "ap-d1-t1-v1",
        "ap-d1-t1-v2",
    ]
    assert page.locator("path[data-grid^='ap-d2']").count() == 0
    assert page.locator(".map-case").count() == 0  # the located case is in ap-d2
    assert "Open hazards: 3, of which overdue: 2" in page.inner_text(".map-summary")
    assert "1–2 open" in page.inner_text("#map-legend")
    # the click first: a screenshot resizes the window twice, and the map with it
    page.click("path[data-grid='ap-d1-t1-v1']")
    link = page.locator(".map-popup[data-grid='ap-d1-t1-v1'] a.map-open")
    link.wait_for()
    page.wait_for_selector("#hazard-map[data-ready='1']:not([data-moving])")  # the pan is over
    with page.expect_navigation(url=re.compile(r".*/cases\?.*grid=ap-d1-t1-v1")):
        link.click()
    assert page.locator("li.case-card").count() == 2
    page.go_back()
    page.wait_for_selector("#hazard-map[data-ready='1']")
    leader.shot("map-leader-en")
    page.goto(server.url + "/cases?status=open&grid=ap-d1-t1-v1")
    fits_page = page.evaluate("document.documentElement.scrollWidth")
    assert fits_page <= 375
    assert all(url.startswith(server.url + "/") for url in requests)
    assert errors == []


def test_the_map_fits_a_phone_in_chinese(browser, server, shots, engine, clock):
    cases_until_now(engine, clock)
    admin = Person(browser, server, "admin", shots, width=375)
    open_map(admin)
    fits(admin)
    admin.page.set_viewport_size({"width": 375, "height": 900})
    legend = admin.page.locator("#map-legend").bounding_box()
    assert legend and legend["width"] <= 375
    admin.shot("map-admin-zh")
