"""A person changes their own password in the browser, on a phone: from the header link, a
wrong current password first, then the right one; the new one signs in."""

from __future__ import annotations

import re

import pytest

from tests.browser.people import PASSWORD, Person
from tests.helpers import MEMBER

pytestmark = pytest.mark.slow


def test_a_grid_member_changes_their_password_on_the_phone(browser, server, shots):
    member = Person(browser, server, MEMBER, shots, width=375)
    page = member.page
    page.click("header a[href$='/account/password']")
    page.wait_for_url(re.compile(r".*/account/password$"))
    page.fill("input[name=current_password]", "not-my-password")
    page.fill("input[name=new_password]", "a-new-secret-2026")
    page.fill("input[name=new_password_again]", "a-new-secret-2026")
    page.click("button[type=submit]")
    assert "这不是您当前的密码" in page.inner_text("[data-field=current_password]")
    assert page.input_value("input[name=new_password]") == ""  # passwords are never shown again
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    member.shot("password-wrong")
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "a-new-secret-2026")
    page.fill("input[name=new_password_again]", "a-new-secret-2026")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(queue|report/.*)$"))
    assert "您的密码已修改" in page.inner_text("main")
    member.shot("password-changed")

    page.click("header form[action$='/logout'] button")
    page.fill("input[name=username]", MEMBER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("main")  # the old one no longer
    page.fill("input[name=username]", MEMBER)
    page.fill("input[name=password]", "a-new-secret-2026")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(queue|report/.*)$"))
