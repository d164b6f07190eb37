"""Where a sign-in or a language switch sends the browser next (`next`) is a path of this site
only, read as a browser reads the Location it gets: a backslash is a slash, tabs and newlines
are dropped, so `/\\evil.example` would be `//evil.example`, another host (werkzeug quotes
both on the way out; this keeps it so)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from tests.browser.people import PASSWORD
from tests.web.test_pages import csrf, signed_in

ELSEWHERE = [
    "//evil.example/",
    "/\\evil.example/",
    "/\\/evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
]


def _lands_on(location: str) -> str:
    """The host a browser goes to for this Location (backslashes as slashes, no tabs)."""
    cleaned = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
    return urlsplit(urljoin("http://localhost/login", cleaned)).netloc


def test_a_sign_in_never_sends_the_browser_to_another_site(app):
    for target in ELSEWHERE:
        browser = app.test_client()
        page = browser.get("/login")
        done = browser.post(
            "/login",
            query_string={"next": target},
            data={"username": "dispatcher", "password": PASSWORD, "csrf_token": csrf(page.text)},
        )
        assert done.status_code == 302
        assert _lands_on(done.headers["Location"]) == "localhost", done.headers["Location"]


def test_a_language_switch_never_sends_the_browser_to_another_site(app):
    browser = signed_in(app, "dispatcher")
    token = csrf(browser.get("/account/password").text)
    for target in ELSEWHERE:
        done = browser.post("/lang/en", data={"next": target, "csrf_token": token})
        assert done.status_code == 302
        assert _lands_on(done.headers["Location"]) == "localhost", done.headers["Location"]


def test_a_path_of_the_site_is_kept(app):
    browser = app.test_client()
    page = browser.get("/login")
    done = browser.post(
        "/login",
        query_string={"next": "/cases?status=all"},
        data={"username": "dispatcher", "password": PASSWORD, "csrf_token": csrf(page.text)},
    )
    assert done.headers["Location"] == "/cases?status=all"
