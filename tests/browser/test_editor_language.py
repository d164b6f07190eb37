"""The process editors speak the page's language: bpmn-js's and dmn-js's own texts (the DMN
table's head and menus, the BPMN palette, context pad and change-element menu) in Chinese on a
zh-CN page, in English on an English one, from the dictionary the page carries
(webui/editor_texts.py). Every text the editors ask for on the way is in that dictionary: after
updating a vendored modeler, a new text shows up here."""

from __future__ import annotations

import pytest

from tests.browser.people import Person
from tests.browser.test_admin import fits_a_phone
from tests.browser.test_admin_modeler import find, open_editor

pytestmark = pytest.mark.slow

# What the editors ask admin.js's translate for, recorded on the way to it.
RECORD = """
window.editorAsked = [];
window.HazardFlowEditors = {};
let translate = null;
Object.defineProperty(window.HazardFlowEditors, "translate", {
  configurable: true,
  get: () => translate && ((template, replacements) => {
    window.editorAsked.push(template);
    return translate(template, replacements);
  }),
  set: (value) => { translate = value; },
});
"""
INFERNO = "development build of Inferno"  # what dmn-js 17.10.2's own bundle says as it loads


def watch(page) -> list[str]:
    """The page's errors: script errors and every console error but the vendored bundle's."""
    found: list[str] = []

    def console(message) -> None:
        if message.type != "error" or INFERNO in message.text:
            return
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # the browser's own request
        found.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def texts_and_asked(page) -> tuple[dict[str, str], set[str]]:
    texts = page.evaluate("JSON.parse(document.getElementById('editor-texts').textContent)")
    return texts, set(page.evaluate("window.editorAsked"))


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_editors_speak_the_pages_language(browser, server, shots, locale):
    zh = locale == "zh-CN"
    admin = Person(browser, server, "admin", shots, locale=locale)
    page = admin.page
    page.add_init_script(RECORD)
    errors = watch(page)

    open_editor(page, "dispatch.dmn")
    table = page.inner_text(".dmn-decision-table-container")
    assert page.inner_text(".hit-policy").split() == (
        ["命中策略：", "唯一"] if zh else ["Hit", "policy:", "Unique"]
    )
    assert ("Hit policy" in table) is not zh
    head = set(page.inner_text(".dmn-decision-table-container thead").split())
    zh_head = {"当", "且", "则", "字符串", "整数", "注释"}
    assert zh_head <= head if zh else {"When", "Then", "string", "integer", "Annotations"} <= head
    page.click("td.rule-index >> nth=2", button="right")  # a rule's menu
    menu = page.inner_text(".context-menu")
    assert ("在上方添加规则" if zh else "Add rule above") in menu
    assert fits_a_phone(page)
    admin.shot("dmn-language")
    page.keyboard.press("Escape")
    page.click(".modeler-views button >> nth=0")  # the decision requirements diagram
    decision = page.locator(".djs-palette .entry[data-action='create.decision']")
    assert decision.get_attribute("title") == ("创建决策" if zh else "Create decision")
    texts, asked = texts_and_asked(page)
    assert {"Hit policy:", "When", "Add rule above", "Create decision"} <= asked
    if zh:
        assert texts["Hit policy:"] == "命中策略："
        assert sorted(asked - texts.keys()) == [], "new texts: add them to webui/editor_texts.py"
    else:
        assert texts == {}

    open_editor_from_list(page, "hazard.bpmn")
    start = page.locator(".djs-palette .entry[data-action='create.start-event']")
    assert start.get_attribute("aria-label") == ("创建开始事件" if zh else "Create start event")
    find(page, "rectify")  # a user task: its context pad, its change-element menu
    kind = page.inner_text("[data-element-type]")  # and the properties panel names its kind
    assert kind == ("用户任务" if zh else "User task")
    find(page, "gw_classify")
    assert page.inner_text("[data-element-type]") == ("排他网关" if zh else "Exclusive gateway")
    find(page, "rectify")
    change = page.locator(".djs-context-pad .entry[data-action='replace']")
    assert change.get_attribute("title") == ("更改元素类型" if zh else "Change element")
    change.click()
    menu = page.inner_text(".djs-popup")
    assert ("业务规则任务" if zh else "Business rule task") in menu
    assert ("Business rule task" in menu) is not zh
    assert fits_a_phone(page)
    admin.shot("bpmn-language")
    texts, asked = texts_and_asked(page)
    assert {"Create start event", "Change element", "Business rule task"} <= asked
    if zh:
        assert texts["Change element"] == "更改元素类型"
        assert sorted(asked - texts.keys()) == [], "new texts: add them to webui/editor_texts.py"
    else:
        assert texts == {}
    assert errors == []
    admin.context.close()


def open_editor_from_list(page, name: str) -> None:
    """Back to the list of process files, and another file in its editor."""
    page.click(".crumbs a")
    page.wait_for_url("**/admin/")
    open_editor(page, name)
