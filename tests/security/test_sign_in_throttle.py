"""Sign-in throttling, tried as an attacker would over HTTP: wrong passwords for one user
name, then the right one; one address trying many names. Refused attempts get a 429 page in
the reader's language that says how long to wait; the windows end, and the real user's own
browser (one that signed in as them before) is not held up by the attacker's failures."""

from __future__ import annotations

import time

import limits.storage.memory
import pytest

import webui.auth
from tests.browser.people import PASSWORD
from tests.web.test_pages import csrf


class FakeTime:
    """The limiter's clock (limits' memory storage reads time.time()), standing still but
    when a test moves it."""

    now = time.time()

    @classmethod
    def time(cls) -> float:
        return cls.now


@pytest.fixture
def limiter_clock(monkeypatch):
    FakeTime.now = time.time()
    monkeypatch.setattr(limits.storage.memory, "time", FakeTime)
    monkeypatch.setattr(webui.auth, "time", FakeTime)  # the wait the page tells
    return FakeTime


def _try(browser, username: str, password: str):
    page = browser.get("/login")
    return browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(page.text)},
    )


def _browser(app, language: str = "zh-CN"):
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return browser


def test_wrong_passwords_for_one_user_then_even_the_right_one_is_refused(app, limiter_clock):
    attacker = _browser(app)
    tries = [_try(attacker, "dispatcher", f"guess-{n}").status_code for n in range(5)]
    assert tries == [401] * 5
    refused = _try(attacker, "dispatcher", PASSWORD)
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.text and "1 分钟" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 61  # the next whole second
    assert 'href="/login"' in refused.text  # the way on, in the site's layout
    # The name is what counts: another address, another case of letters, the same refusal.
    other = _browser(app, "en")
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    in_english = _try(other, "Dispatcher ", PASSWORD)
    assert in_english.status_code == 429 and "Too many failed sign-ins" in in_english.text
    # Others sign in meanwhile.
    assert _try(_browser(app), "dept_yjj", PASSWORD).status_code == 302
    limiter_clock.now += 61
    assert _try(attacker, "dispatcher", PASSWORD).status_code == 302


def test_the_wait_grows_with_the_failures_and_ends(app, limiter_clock):
    attacker = _browser(app)
    for _round in range(4):  # 5 a minute, 20 in the hour
        assert [_try(attacker, "dept_yjj", "guess").status_code for _ in range(5)] == [401] * 5
        limiter_clock.now += 61
    refused = _try(attacker, "dept_yjj", PASSWORD)
    assert refused.status_code == 429
    assert 600 < int(refused.headers["Retry-After"]) <= 3600  # the hour's window now
    limiter_clock.now += 3600
    assert _try(attacker, "dept_yjj", PASSWORD).status_code == 302  # never locked for good


def test_the_users_own_browser_is_not_locked_out_by_an_attack(app, limiter_clock):
    own = _browser(app)
    assert _try(own, "dept_zjj", PASSWORD).status_code == 302  # signed in here before
    attacker = _browser(app)
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    for _round in range(4):
        [_try(attacker, "dept_zjj", "guess") for _ in range(5)]
        limiter_clock.now += 61
    assert _try(attacker, "dept_zjj", PASSWORD).status_code == 429
    assert _try(own, "dept_zjj", PASSWORD).status_code == 302
    # the device cookie is the user's only: copied to sign in as another user it is no help
    for _ in range(5):
        _try(attacker, "dispatcher", "guess")
    attacker.set_cookie("hazardflow_device", own.get_cookie("hazardflow_device").value)
    assert _try(attacker, "dispatcher", PASSWORD).status_code == 429


def test_one_address_trying_many_names_is_refused(app, limiter_clock):
    attacker = _browser(app)
    tries = [_try(attacker, f"someone-{n}", "guess").status_code for n in range(30)]
    assert tries == [401] * 30
    assert _try(attacker, "someone-else", "guess").status_code == 429
    limiter_clock.now += 61
    assert _try(attacker, "dispatcher", PASSWORD).status_code == 302


def test_successful_sign_ins_are_never_counted(app, limiter_clock):
    browser = _browser(app)
    for _ in range(4):
        assert _try(browser, "dispatcher", "guess").status_code == 401
    assert [_try(browser, "dispatcher", PASSWORD).status_code for _ in range(25)] == [302] * 25
