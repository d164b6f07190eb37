"""Sign-in over real HTTP: a password hash an older release wrote (werkzeug's scrypt); a
cookie copied before sign-out opens nothing after it."""

from __future__ import annotations

import pytest
import requests
from werkzeug.security import generate_password_hash

from engine.models import User
from tests.browser.people import PASSWORD
from tests.web.test_pages import csrf

pytestmark = pytest.mark.slow


def _stored(engine, username: str) -> str:
    with engine.db.reading() as session:
        return session.get(User, username).password_hash


def _sign_in(server, username: str, password: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(server.url + "/login", timeout=10)
    return browser.post(
        server.url + "/login",
        data={"username": username, "password": password, "csrf_token": csrf(page.text)},
        allow_redirects=False,
        timeout=10,
    )


def test_an_old_werkzeug_hash_signs_in_once_and_is_stored_as_argon2id(server, engine):
    old = generate_password_hash("before-upgrade")
    with engine.db.transaction() as session:
        session.get(User, "dept_yjj").password_hash = old

    assert _sign_in(server, "dept_yjj", "wrong").status_code == 401
    assert _stored(engine, "dept_yjj") == old  # a wrong password changes nothing

    assert _sign_in(server, "dept_yjj", "before-upgrade").status_code == 302
    renewed = _stored(engine, "dept_yjj")
    assert renewed.startswith("$argon2id$")
    assert _sign_in(server, "dept_yjj", "before-upgrade").status_code == 302  # and again
    assert _stored(engine, "dept_yjj") == renewed


def test_over_a_real_server_a_copied_cookie_dies_with_sign_out(server):
    browser = requests.Session()
    page = browser.get(server.url + "/login", timeout=10)
    browser.post(
        server.url + "/login",
        data={"username": "dispatcher", "password": PASSWORD, "csrf_token": csrf(page.text)},
        timeout=10,
    )
    copied = browser.cookies.get("session")
    thief = requests.Session()
    thief.cookies.set("session", copied)
    assert thief.get(server.url + "/queue", allow_redirects=False, timeout=10).status_code == 200
    queue = browser.get(server.url + "/queue", timeout=10)
    browser.post(server.url + "/logout", data={"csrf_token": csrf(queue.text)}, timeout=10)
    answer = thief.get(server.url + "/queue", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
