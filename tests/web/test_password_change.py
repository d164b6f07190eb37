"""A person changes their own password (/account/password): the current one, the new one twice,
a minimum length; a wrong current password changes nothing, and afterwards only the new
password signs in."""

from __future__ import annotations

import re

import pytest

from tests.browser.people import PASSWORD
from tests.web.test_pages import csrf, signed_in

NEW = "neues-Passwort-2026"


def _change(browser, current: str, new: str, again: str | None = None):
    page = browser.get("/account/password")
    assert page.status_code == 200
    return browser.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
            "csrf_token": csrf(page.text),
        },
    )


def _signs_in(app, username: str, password: str) -> bool:
    browser = app.test_client()
    page = browser.get("/login")
    done = browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(page.text)},
    )
    return done.status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "message"),
    [
        ("wrong-password", NEW, None, "current_password", "这不是您当前的密码"),
        (PASSWORD, NEW, NEW + "x", "new_password_again", "两次输入的新密码不一致"),
        (PASSWORD, "kurz", None, "new_password", "新密码至少需要 10 个字符"),
    ],
    ids=["wrong-current", "mismatch", "too-short"],
)
def test_a_refused_change_says_why_beside_the_field_and_changes_nothing(
    app, current, new, again, field, message
):
    member = signed_in(app, "member_d1_t1_v1")
    refused = _change(member, current, new, again)
    assert refused.status_code == 422
    assert message in refused.text
    beside = rf'data-field="{field}"(?:(?!data-field).)*{message}'
    assert re.search(beside, refused.text, re.S), "the message stands beside its field"
    assert _signs_in(app, "member_d1_t1_v1", PASSWORD)  # nothing changed
    assert not _signs_in(app, "member_d1_t1_v1", new)


def test_the_new_password_signs_in_and_the_old_one_no_longer(app, engine):
    dispatcher = signed_in(app, "dispatcher")
    assert "/account/password" in dispatcher.get("/queue").text  # linked from the header
    done = _change(dispatcher, PASSWORD, NEW)
    assert done.status_code == 302
    assert "您的密码已修改" in dispatcher.get(done.headers["Location"], follow_redirects=True).text
    assert not _signs_in(app, "dispatcher", PASSWORD)
    assert _signs_in(app, "dispatcher", NEW)
    assert engine.verify_audit().ok  # the change is on the user's audit chain


def test_in_english_too(app):
    dept = signed_in(app, "dept_yjj", language="en")
    page = dept.get("/account/password")
    assert "Current password" in page.text and "At least 10 characters." in page.text
    refused = _change(dept, "nope", NEW)
    assert "This is not your current password" in refused.text


def test_the_account_page_needs_sign_in(app):
    page = app.test_client().get("/account/password")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
