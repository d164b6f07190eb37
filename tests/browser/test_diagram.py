"""The diagram on the case page: zoom in, zoom out, the whole process and the current step by
buttons; two fingers on a phone; every lane's name readable at any zoom."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.browser.people import Person
from tests.helpers import MEMBER, RECTIFY_REPORT, accept, act, report, to_rectify

pytestmark = pytest.mark.slow
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SCALE = "document.querySelector('#diagram .viewport').transform.baseVal.consolidate().matrix.a"


def _lane_names(page, base: str, case: int) -> list[str]:
    """The lanes' names in the diagram the page shows (in the reader's language)."""
    # fetched by the page itself, so it asks in the page's language (page.request would not)
    xml = page.evaluate(
        "url => fetch(url).then(r => r.json()).then(d => d.xml)",
        f"{base}/cases/{case}/diagram.json",
    )
    return [lane.get("name") for lane in ET.fromstring(xml).iter(f"{BPMN}lane")]


def _open(person: Person, case: int) -> None:
    person.page.goto(f"{person.base}/cases/{case}")
    person.page.wait_for_selector("#diagram[data-ready=true]")


def _scale(page) -> float:
    return page.evaluate(SCALE)


def _changes_scale(page, action: str) -> float:
    before = _scale(page)
    page.click(f"[data-diagram-action={action}]")
    page.wait_for_function(f"Math.abs({SCALE} - {before}) > 1e-6")
    return _scale(page)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_buttons_zoom_and_fit_and_the_lanes_say_their_names(
    browser, server, shots, engine, locale
):
    case = report(engine)
    accept(engine, case)  # now at 派遣 (dispatch)
    dispatcher = Person(browser, server, "dispatcher", shots, locale=locale)
    page = dispatcher.page
    _open(dispatcher, case)
    assert page.locator('[data-element-id="dispatch"].hf-now').count() == 1
    assert page.locator('[data-element-id="classify"].hf-done').count() == 1
    fitted = _scale(page)  # a wide screen opens on the whole process
    assert _changes_scale(page, "zoom-in") > fitted
    zoomed = _scale(page)
    assert _changes_scale(page, "zoom-out") < zoomed
    page.click("[data-diagram-action=zoom-in]")
    page.click("[data-diagram-action=zoom-in]")
    assert _changes_scale(page, "fit") == pytest.approx(fitted)

    names = _lane_names(page, server.url, case)
    assert len(names) >= 4 and all(names)
    # the names people use, never the role keys the lanes' `name` attributes hold
    assert not {"grid_member", "dispatcher", "department", "leader"} & set(names)
    assert ("网格员" if locale == "zh-CN" else "Grid member") in names
    labels = page.locator(".lane-name")
    assert labels.all_inner_texts() == names
    for label in labels.all():
        assert label.is_visible()
        assert float(label.evaluate("e => getComputedStyle(e).fontSize")[:-2]) >= 11
    dispatcher.shot("diagram")

    page.click("[data-diagram-action=now]")  # the current step, readable
    page.wait_for_function(f"{SCALE} > 0.8")
    box = page.locator("#diagram").bounding_box()
    step = page.locator('[data-element-id="dispatch"]').bounding_box()
    assert box["x"] <= step["x"] and step["x"] + step["width"] <= box["x"] + box["width"]
    assert box["y"] <= step["y"] and step["y"] + step["height"] <= box["y"] + box["height"]
    visible = [label.inner_text() for label in labels.all() if label.is_visible()]
    assert visible  # the lane of the current step keeps its name in view
    dispatcher.shot("diagram-now")


def test_on_a_phone_it_opens_at_the_current_step_and_two_fingers_zoom(
    browser, server, shots, engine
):
    case = report(engine)
    member = Person(browser, server, MEMBER, shots, width=375, has_touch=True)
    page = member.page
    _open(member, case)
    box = page.locator("#diagram").bounding_box()
    assert 320 <= box["height"] <= 900 * 0.7  # tall enough to use, the page still scrolls
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert _scale(page) > 0.8  # the current step at a readable size, not a speck
    step = page.locator('[data-element-id="classify"]').bounding_box()
    assert box["x"] <= step["x"] and step["x"] + step["width"] <= box["x"] + box["width"]
    assert page.is_visible(".touch-hint")
    member.shot("diagram-phone")

    before = _scale(page)
    page.locator("#diagram").scroll_into_view_if_needed()
    box = page.locator("#diagram").bounding_box()  # where the fingers go, in the viewport
    scrolled = page.evaluate("window.scrollY")
    cdp = member.context.new_cdp_session(page)
    middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def fingers(kind: str, spread: float) -> None:
        points = [{"x": middle_x - spread, "y": middle_y}, {"x": middle_x + spread, "y": middle_y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    fingers("touchStart", 30)
    for spread in range(40, 121, 10):
        fingers("touchMove", spread)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert _scale(page) > before * 2  # pinched open: four times as far apart
    assert page.evaluate("window.scrollY") == scrolled  # they moved the diagram, not the page

    page.click("[data-diagram-action=fit]")
    assert _scale(page) < before  # the whole process fits the phone
    member.shot("diagram-phone-fit")


def test_on_a_phone_a_step_inside_a_stage_opens_readable(browser, server, shots, engine):
    """At 整改 the case is inside the rectification stage (a subprocess, also active): the
    phone frames the step, not the whole stage around it."""
    case = to_rectify(engine)
    dispatcher = Person(browser, server, "dispatcher", shots, width=375)
    page = dispatcher.page
    _open(dispatcher, case)
    assert _scale(page) > 0.8
    box = page.locator("#diagram").bounding_box()
    step = page.locator('[data-element-id="rectify"]').bounding_box()
    assert box["x"] <= step["x"] and step["x"] + step["width"] <= box["x"] + box["width"]
    assert box["y"] <= step["y"] and step["y"] + step["height"] <= box["y"] + box["height"]


def test_a_joint_case_shows_the_parts_stage_and_what_each_part_has_done(
    browser, server, shots, engine
):
    """Two departments rectifying, one of them done: the departments' stage is drawn around
    the rectification, current, with the step that recorded the done part's report."""
    case = report(engine)
    accept(engine, case)
    days = engine.instance(case)["data"]["deadline_days"]
    dispatch = {"department": "yjj", "deadline_days": days, "cooperating_departments": ["zjj"]}
    act(engine, "dispatcher", case, "dispatch", dispatch)
    for dept in ("yjj", "zjj"):
        act(engine, f"dept_{dept}", case, "receive", {"decision": "accept"})
    act(engine, "dept_zjj", case, "rectify", RECTIFY_REPORT)
    dispatcher = Person(browser, server, "dispatcher", shots)
    page = dispatcher.page
    _open(dispatcher, case)
    for now in ("department_parts", "rectification", "rectify"):
        assert page.locator(f'[data-element-id="{now}"].hf-now').count() == 1, now
    for done in ("start_receiving_part", "record_receipt", "record_part_report"):
        assert page.locator(f'[data-element-id="{done}"].hf-done').count() == 1, done
    parts = page.locator('[data-element-id="department_parts"]').bounding_box()
    inner = page.locator('[data-element-id="rectification"]').bounding_box()
    assert parts["x"] < inner["x"] and inner["x"] + inner["width"] < parts["x"] + parts["width"]
    dispatcher.shot("diagram-joint")
