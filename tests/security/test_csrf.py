"""CSRF on every state-changing form, generated from the URL map: every route taking POST,
PUT or DELETE outside the token-authenticated API. Each is sent as the role that may do it,
with the body that does it, three times without a valid token (none, a made-up one, another
session's valid one): refused with 400, nothing changed. Then once with the browser's own
token: done, so the refusals were not for another reason.

The API takes no cookie session at all: a signed-in browser's cookies alone (what another
site's form or script would send along) open none of its state-changing routes."""

from __future__ import annotations

import pytest

from tests.security.test_authorization_matrix import Target, targets, url_map_routes
from tests.security.world import World, build, fingerprint, form_data

STATE_CHANGING = {"POST", "PUT", "DELETE"}
# route -> the role that may do it and the object it is done to, in an order in which each
# can be done after the ones before (a claim before its release, a draft before completing)
FORMS = {
    "POST queue.save_view": ("dispatcher", ""),
    "POST inbox.read": ("dept_yjj", "y"),
    "POST cases.urge": ("dispatcher", "y"),
    "POST queue.claim_selected": ("dept_yjj", "y"),
    "POST tasks.release": ("dept_yjj", "y"),
    "POST tasks.claim": ("dept_yjj", "y"),
    "POST tasks.draft": ("dept_yjj", "y"),
    "POST tasks.complete": ("dept_yjj", "y"),
    "POST tasks.hand_over": ("dept_zjj", "z"),  # case zjj's task goes to dept_zjj2 ...
    "POST queue.hand_over_selected": ("dept_zjj2", "z", {"to": "dept_zjj"}),  # ... and back
    "POST report.form": ("member", ""),
    "POST public.report": ("anonymous", ""),
    "POST auth.login": ("anonymous", ""),
    "POST auth.set_language": ("member", ""),
    "POST auth.logout": ("member", ""),
    "POST auth.password": ("member", ""),
    "POST admin.check": ("admin", ""),  # validating changes nothing: refused all the same
    "POST admin.deploy": ("admin", ""),  # a new version of the dispatch table ...
    "POST admin.migrate": ("admin", ""),  # ... the case yjj moved to it ...
    "POST admin.redeploy": ("admin", ""),  # ... and the first deployment again
    "POST admin.check_file": ("admin", ""),  # a draft of one file, validated ...
    "POST admin.preview_form": ("admin", ""),  # ... a form's drawn ...
    "POST admin.deploy_file": ("admin", ""),  # ... and one deployed from the editor
    "POST admin.deactivate": ("admin", ""),
    "POST admin.reactivate": ("admin", ""),
    "POST admin.reset_password": ("admin", ""),
    "POST admin.revoke_token": ("admin", ""),
    "POST admin.add_department": ("admin", ""),
    "POST admin.rename_department": ("admin", ""),
    "POST admin.add_grid": ("admin", ""),
    "POST admin.update_grid": ("admin", ""),
    "POST admin.upload_grid_shape": ("admin", ""),
    "POST admin.remove_grid_shape": ("admin", ""),  # the outline just uploaded
    "POST admin.upload_shapes": ("admin", ""),
    "POST admin.try_import": ("admin", ""),
    "POST admin.confirm_import": ("admin", ""),
    "POST admin.add_user": ("admin", ""),
    "POST admin.edit_user": ("admin", ""),
    "POST admin.add_webhook": ("admin", ""),
    "POST admin.deactivate_webhook": ("admin", ""),
}
CHANGE_NOTHING = {
    "POST admin.check",  # validating changes nothing: refused all the same
    "POST admin.check_file",
    "POST admin.preview_form",
    "POST admin.try_import",  # a dry run
    "POST admin.confirm_import",  # with no import tried in this browser (tests/web: with one)
}  # done with the token, though nothing is stored


def _forms(app) -> set[str]:
    return {
        route
        for route in url_map_routes(app)
        if route.split()[0] in STATE_CHANGING and not route.split()[1].startswith("api.")
    }


def _api_commands(app) -> set[str]:
    return {
        route
        for route in url_map_routes(app)
        if route.split()[0] in STATE_CHANGING and route.split()[1].startswith("api.")
    }


def test_every_state_changing_form_of_the_url_map_is_tried(app):
    assert _forms(app) == set(FORMS)


def _target(w: World, route: str, role: str, key: str) -> Target:
    return targets(route, w, role)[key]


def _post(client, target: Target, token: str | None):
    form = dict(target.form or {})
    if token is not None:
        form["csrf_token"] = token
    return client.post(target.path, data=form_data(form))


def _state(w: World, client) -> tuple[dict[str, str], int, bool]:
    """Every table (sessions too), whether the browser is signed in, and its language."""
    signed_in = client.get("/account/password").status_code
    english = "Sign in" in client.get("/login").get_data(as_text=True)
    return fingerprint(w.engine, sessions=True), signed_in, english


def test_every_form_refuses_a_missing_or_wrong_token_and_changes_nothing(app, engine):
    w = build(app, engine)
    outsider = w.fresh_browser("admin")  # another session: its token is valid, for it
    stolen = w.csrf_token("admin", outsider)
    wrong: list[str] = []
    tried = 0
    for route, (role, key, *changes) in FORMS.items():
        client = w.fresh_browser(role)
        target = _target(w, route, role, key)
        target.form = {**(target.form or {}), **(changes[0] if changes else {})}
        for name, token in (("no token", None), ("a made-up one", "x" * 40), ("another", stolen)):
            before = _state(w, client)
            answer = _post(client, target, token)
            tried += 1
            if answer.status_code != 400:
                wrong.append(f"{route} with {name}: {answer.status_code}")
            if _state(w, client) != before:
                wrong.append(f"{route} with {name} changed something")
        before = _state(w, client)
        done = _post(client, target, w.csrf_token(role, client))
        unchanged = _state(w, client) == before and route not in CHANGE_NOTHING
        if done.status_code not in (200, 302) or unchanged:
            wrong.append(f"{route} with its token did nothing: {done.status_code}")
    print(f"CSRF: {len(FORMS)} forms, {tried} refused posts")
    assert wrong == [], "\n".join(wrong)


@pytest.fixture
def world(app, engine) -> World:
    return build(app, engine)


def test_the_api_takes_no_cookie_session(world: World):
    """Each state-changing API route, sent with a signed-in browser's cookies and no token:
    401, nothing changed (so CSRF cannot reach it through a browser)."""
    wrong = []
    routes = _api_commands(world.app)
    assert routes  # the URL map has some
    for route in sorted(routes):
        role = "dispatcher" if route != "POST api.claim_task" else "dept_yjj"
        client = world.browser(role)
        for key, target in targets(route, world, role).items():
            before = fingerprint(world.engine)
            answer = client.open(
                target.path,
                method=route.split()[0],
                json=target.json,
                headers={"X-CSRFToken": world.csrf_token(role)},  # even with one
            )
            if answer.status_code != 401:
                wrong.append(f"{route} on {key}: {answer.status_code}")
            if fingerprint(world.engine) != before:
                wrong.append(f"{route} on {key} changed something")
    assert wrong == [], "\n".join(wrong)
