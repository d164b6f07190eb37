"""The public in the browser, phone-sized, in Chinese and in English: a report with a photo,
a contact and the grid found by typing its name; the lookup form; the status page once the
dispatcher closed the report as invalid or merged it into an earlier case."""

from __future__ import annotations

import re

import pytest

from engine import PUBLIC
from tests.browser.people import photo
from tests.helpers import REPORT, close_invalid, merge_duplicate
from webui import create_app
from webui.public import lookup_code

pytestmark = pytest.mark.slow

TEXTS = {
    "zh-CN": {
        "search": "输入名称搜索",
        "chosen": "已选择：东城区 › 河口镇 › 柳树村",
        "send": "提交上报",
        "lookup": "查询",
        "not_found": "没有找到与此案件编号和查询码相符的案件",
        "closed": "已结案",
        "invalid": "无效结案",
        "merged": "已合并到案件",
        "reason": "理由",
    },
    "en": {
        "search": "Type a name to search",
        "chosen": "Chosen: 东城区 › 河口镇 › 柳树村",
        "send": "Send report",
        "lookup": "Look up",
        "not_found": "No case was found for this case number and code",
        "closed": "Closed",
        "invalid": "Closed as invalid",
        "merged": "Merged into case",
        "reason": "Reason",
    },
}


def _shot(page, shots, name: str) -> None:
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 900})


def _fits(page) -> None:
    """Nothing sticks out sideways on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_passer_by_reports_with_a_photo_and_follows_the_case(
    browser, server, shots, engine, tmp_path, locale
):
    texts = TEXTS[locale]
    context = browser.new_context(viewport={"width": 375, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(server.url + "/public/report")
    search = page.locator("input[data-grid-search]")
    assert texts["search"] in search.get_attribute("placeholder")
    search.fill("柳树")  # the village by its name: one grid has it
    assert page.input_value("select[name=grid]") == "ap-d1-t2-v2"
    assert texts["chosen"] in page.inner_text("[data-grid-matches]")
    search.fill("东城 社区")  # every word must match: the communities of 东城区
    names = page.locator("select[name=grid] option:not([value=''])").all_inner_texts()
    assert names == ["南门社区", "北关社区"]
    assert page.input_value("select[name=grid]") == ""  # two: the reader chooses
    page.select_option("select[name=grid]", "ap-d1-t1-v2")
    page.fill("input[name=unit]", "北关菜市场")
    page.select_option("select[name=category]", "city_gas")
    page.fill("textarea[name=description]", "液化气钢瓶堆在通道里，旁边有人抽烟")
    page.fill("input[name=contact]", "13800001111")
    page.set_input_files("input[name=photos__upload]", str(photo(tmp_path / "p.png", "orange")))
    _fits(page)
    _shot(page, shots, "public-report")
    page.click(f"button[type=submit]:text-is('{texts['send']}')")
    page.wait_for_url(re.compile(r".*/public/cases/\d+\?code=\w+$"))
    case = int(re.search(r"/public/cases/(\d+)", page.url)[1])
    number = page.inner_text("h1 .case-number")  # what the passer-by keeps: YH-2026-000001
    assert number == engine.instance(case)["number"]
    code = page.inner_text(".lookup-code")
    assert engine.instance(case)["data"]["contact"] == "13800001111"
    thumb = page.locator("img.thumb")
    assert thumb.count() == 1
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 64  # it loads
    _fits(page)
    _shot(page, shots, "public-status-new")

    # Someone else, days later, with only the number and the code: the lookup form.
    later = browser.new_context(viewport={"width": 375, "height": 900}, locale=locale)
    other = later.new_page()
    other.goto(server.url + "/login")
    other.click("a[href$='/public/lookup']")
    other.fill("input[name=number]", number)
    other.fill("input[name=code]", "0000000000")
    other.click(f"button[type=submit]:text-is('{texts['lookup']}')")
    assert texts["not_found"] in other.inner_text("main")
    assert other.input_value("input[name=number]") == number  # what was typed stays
    _shot(other, shots, "public-lookup-not-found")
    other.fill("input[name=code]", code.upper())
    other.click(f"button[type=submit]:text-is('{texts['lookup']}')")
    other.wait_for_url(re.compile(rf".*/public/cases/{case}\?code={code}$"))

    close_invalid(engine, case, reason="经现场核实，钢瓶已清走")
    other.reload()
    text = other.inner_text("main")
    assert texts["closed"] in text and texts["invalid"] in text
    assert texts["reason"] in text and "经现场核实，钢瓶已清走" in text
    _fits(other)
    _shot(other, shots, "public-status-invalid")

    earlier = engine.start("hazard_handling", REPORT, PUBLIC)
    duplicate = engine.start("hazard_handling", REPORT, PUBLIC)
    merge_duplicate(engine, duplicate, earlier)
    with create_app(engine).test_request_context():  # the server's secret, in its data folder
        duplicate_code = lookup_code(duplicate)
    other.goto(server.url + "/public/lookup")
    other.fill("input[name=number]", engine.instance(duplicate)["number"])
    other.fill("input[name=code]", duplicate_code)
    other.click(f"button[type=submit]:text-is('{texts['lookup']}')")
    other.wait_for_url(re.compile(rf".*/public/cases/{duplicate}\?code=\w+$"))
    merged = other.locator(f"dt:text-is('{texts['merged']}') + dd").inner_text()
    assert merged == engine.instance(earlier)["number"]  # stored and shown as its number
    _shot(other, shots, "public-status-duplicate")
    context.close()
    later.close()


def test_the_grid_is_chosen_from_a_tree_without_javascript(browser, server, shots):
    context = browser.new_context(
        viewport={"width": 375, "height": 900}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(server.url + "/public/report")
    assert not page.is_visible("input[data-grid-search]")  # nothing that would not work
    groups = page.locator("select[name=grid] optgroup").evaluate_all(
        "groups => groups.map(g => g.label)"
    )
    assert "东城区 › 城关街道" in groups and "西山县" in groups
    town = page.locator("optgroup[label='东城区 › 城关街道'] option").all_inner_texts()
    assert town == ["南门社区", "北关社区"]
    _shot(page, shots, "public-report-no-js")
    context.close()
