"""The case page printed for a meeting or a file: no navigation, buttons, forms or diagram
controls; the case data and the timeline on A4 portrait, the whole diagram on a landscape page
of its own."""

from __future__ import annotations

import re

import pytest

from tests.browser.people import Person
from tests.helpers import accept, act, report

pytestmark = pytest.mark.slow


def _display(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).display")


def test_the_printed_case_has_the_record_and_none_of_the_controls(browser, server, shots, engine):
    case = report(engine)
    accept(engine, case)
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 5})
    dispatcher = Person(browser, server, "dispatcher", shots)
    page = dispatcher.page
    page.goto(f"{server.url}/cases/{case}")
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.is_visible("button[data-print]")  # the print button, on screen
    assert _display(page, "header nav") != "none"

    page.emulate_media(media="print")
    for hidden in (
        "header nav",
        "header form",
        "button[data-print]",
        ".diagram-controls",
        "#diagram",
    ):
        assert _display(page, hidden) == "none", hidden
    for shown in ("main h1", ".readonly-all", ".timeline", ".diagram-print svg", ".legend"):
        assert _display(page, shown) != "none", shown
    svg = page.locator(".diagram-print svg").bounding_box()
    assert svg["width"] > 500 and svg["height"] > 150  # the whole process, page-wide
    assert page.locator(".diagram-print .hf-now").count() >= 1  # where it stands, marked
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=str(shots / "case-print-a4.png"), full_page=True)

    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    (shots / "case.pdf").write_bytes(pdf)
    boxes = [
        (round(float(w)), round(float(h)))
        for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    ]
    assert boxes[0] == (595, 842)  # A4 portrait: the data and the timeline
    assert boxes[-1] == (842, 595)  # A4 landscape: the diagram
