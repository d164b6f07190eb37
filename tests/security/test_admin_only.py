"""Every administrators' page and API endpoint refuses everyone else, over real HTTP: the
routes come from the app's URL map (every rule under /admin, every API rule of deployments),
so a route added tomorrow is tried too. Forms are sent with a valid CSRF token, so that the
refusal is the role check's; afterwards nothing has changed."""

from __future__ import annotations

import re

import pytest
import requests
from werkzeug.routing import Rule

from webui import create_app

pytestmark = pytest.mark.slow
OTHERS = ("dispatcher", "dept_yjj", "member_d1_t1_v1", "leader_ap")
ADMIN_API = "/api/v1/deployments"
SAMPLE = {"int": "1", "default": "admin"}  # values for the rules' variables


def admin_rules(engine) -> list[tuple[str, str]]:
    """(method, path) of every administrators' route, its variables filled in."""
    found = []
    for rule in create_app(engine).url_map.iter_rules():
        if not (rule.rule.startswith("/admin") or rule.rule.startswith(ADMIN_API)):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, _path(rule)))
    return found


def _path(rule: Rule) -> str:
    def value(match: re.Match[str]) -> str:
        converter = match.group(1) or "default"
        return SAMPLE.get(converter, SAMPLE["default"])

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", value, rule.rule)


def test_the_url_map_has_the_administrators_routes(engine):
    routes = admin_rules(engine)
    assert ("GET", "/admin/") in routes and ("POST", "/admin/users/admin/deactivate") in routes
    assert ("POST", ADMIN_API) in routes and ("GET", f"{ADMIN_API}/1/files") in routes
    assert len(routes) >= 12


@pytest.mark.parametrize("username", OTHERS)
def test_everyone_else_gets_403_on_every_admin_page(server, engine, web_user, username):
    person = web_user(username)
    token_page = person.get("/inbox")
    refused = []
    for method, path in admin_rules(engine):
        if path.startswith("/api/"):
            continue
        if method == "GET":
            answer = person.get(path)
        else:
            answer = person.post(path, {"new_password": "x" * 20}, page=token_page)
        if answer.status_code != 403:
            refused.append(f"{method} {path}: {answer.status_code}")
    assert refused == []
    assert engine.actor("admin").is_admin  # not deactivated
    assert len(engine.deployments()) == 1


@pytest.mark.parametrize("username", OTHERS)
def test_everyone_else_gets_403_on_every_admin_api_endpoint(server, engine, token_for, username):
    headers = {"Authorization": f"Bearer {token_for(username)}"}
    wrong = []
    for method, path in admin_rules(engine):
        if not path.startswith("/api/"):
            continue
        answer = requests.request(method, server.url + path, headers=headers, timeout=30)
        if answer.status_code != 403 or answer.json()["error"] != "forbidden":
            wrong.append(f"{method} {path}: {answer.status_code}")
    assert wrong == []


def test_signed_out_the_pages_ask_to_sign_in_and_the_api_for_a_token(server, engine):
    for method, path in admin_rules(engine):
        answer = requests.request(method, server.url + path, allow_redirects=False, timeout=30)
        if path.startswith("/api/"):
            assert answer.status_code == 401, path
        elif method == "GET":
            assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
        else:
            assert answer.status_code in (302, 400), path  # sign-in, or no CSRF token
