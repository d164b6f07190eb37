"""Cookie flags, as a browser receives them at sign-in: HttpOnly and SameSite=Lax always;
Secure when config `security.https` (or HAZARDFLOW_HTTPS) says the site is served over HTTPS."""

from __future__ import annotations

import pytest
import requests

from engine.config import load_config
from tests.browser.people import PASSWORD
from tests.web.conftest import Server
from tests.web.test_pages import csrf
from webui import create_app


def _sign_in_cookies(client, base_url: str = "http://localhost") -> dict[str, str]:
    """name -> the Set-Cookie header a sign-in answered for it."""
    page = client.get("/login", base_url=base_url)
    done = client.post(
        "/login",
        data={"username": "dispatcher", "password": PASSWORD, "csrf_token": csrf(page.text)},
        base_url=base_url,
        headers={"Referer": base_url + "/login"},  # Flask-WTF checks it over HTTPS
    )
    assert done.status_code == 302
    return {h.split("=", 1)[0]: h for h in done.headers.getlist("Set-Cookie")}


def _flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_without_https_the_cookies_are_httponly_and_lax(engine):
    cookies = _sign_in_cookies(create_app(engine, TESTING=True).test_client())
    assert set(cookies) == {"session", "hazardflow_device"}
    for header in cookies.values():
        assert {"httponly", "samesite=lax"} <= _flags(header)
        assert "secure" not in _flags(header)


def test_with_https_every_cookie_is_secure_too(engine):
    engine.config.https = True
    client = create_app(engine, TESTING=True).test_client()
    cookies = _sign_in_cookies(client, "https://localhost")  # a Secure cookie needs HTTPS
    assert set(cookies) == {"session", "hazardflow_device"}
    for header in cookies.values():
        assert {"secure", "httponly", "samesite=lax"} <= _flags(header)


def test_the_setting_comes_from_config_yaml_or_the_environment(tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text("security:\n  https: true\n")
    assert load_config(config).https is True
    assert load_config(tmp_path / "none.yaml").https is False
    monkeypatch.setenv("HAZARDFLOW_HTTPS", "1")
    assert load_config(tmp_path / "none.yaml").https is True
    monkeypatch.setenv("HAZARDFLOW_HTTPS", "false")
    assert load_config(config).https is False


@pytest.mark.slow
def test_a_real_server_behind_https_sends_secure_cookies(engine, database_url, tmp_path):
    server = Server(database_url, tmp_path / "data", HAZARDFLOW_HTTPS="1")
    server.start()
    try:
        page = requests.get(server.url + "/login", timeout=10)
        first = page.headers["Set-Cookie"]
        assert {"secure", "httponly", "samesite=lax"} <= _flags(first)
        # the proxy in front speaks HTTPS; plain requests would not send a Secure cookie back
        done = requests.post(
            server.url + "/login",
            data={"username": "dispatcher", "password": PASSWORD, "csrf_token": csrf(page.text)},
            headers={"Cookie": first.split(";", 1)[0]},
            allow_redirects=False,
            timeout=10,
        )
        assert done.status_code == 302
        headers = [v for k, v in done.raw.headers.items() if k.lower() == "set-cookie"]
        assert len(headers) == 2
        assert all({"secure", "httponly", "samesite=lax"} <= _flags(h) for h in headers)
    finally:
        server.stop()
