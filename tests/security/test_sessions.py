"""Sessions live on the server: each attack here is tried over HTTP with a copy of a real
cookie. Signing out, changing one's password, deactivation, the idle timeout and the absolute
lifetime end a session for every copy of its cookie; the session token is new at every
sign-in; checking a session costs one primary-key lookup."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event

from tests.browser.people import PASSWORD
from tests.web.test_pages import csrf, signed_in
from tests.web.test_password_change import NEW, _change

QUEUE = "/queue"


def _cookie(browser) -> str:
    return browser.get_cookie("session").value


def _with_cookie(app, value: str):
    """Another browser (the attacker's) holding a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def _opens(browser, path: str = QUEUE) -> bool:
    answer = browser.get(path)
    assert answer.status_code in (200, 302), answer.status_code
    return answer.status_code == 200


def _sign_out(browser) -> None:
    page = browser.get(QUEUE)
    assert browser.post("/logout", data={"csrf_token": csrf(page.text)}).status_code == 302


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app):
    dispatcher = signed_in(app, "dispatcher")
    copied = _cookie(dispatcher)
    assert _opens(_with_cookie(app, copied))  # the copy works while the session lives
    _sign_out(dispatcher)
    assert not _opens(_with_cookie(app, copied))
    assert not _opens(dispatcher)


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app):
    here = signed_in(app, "dept_yjj")
    elsewhere = signed_in(app, "dept_yjj")
    stolen = _with_cookie(app, _cookie(elsewhere))
    assert _opens(elsewhere) and _opens(stolen)
    assert _change(here, PASSWORD, NEW).status_code == 302
    assert _opens(here)
    assert not _opens(elsewhere)
    assert not _opens(stolen)


def test_a_session_ends_after_the_idle_timeout_and_the_absolute_lifetime(app, engine, clock):
    engine.config.session_idle_minutes = 30
    engine.config.session_lifetime_hours = 2
    busy = signed_in(app, "dispatcher")
    idle = signed_in(app, "dept_yjj")
    for _ in range(4):  # busy: a request every 25 minutes keeps it alive for 100 minutes
        clock.advance(minutes=25)
        assert _opens(busy)
    assert not _opens(idle), "idle for 100 minutes"
    clock.advance(minutes=19)  # 119 minutes after sign-in
    assert _opens(busy)
    clock.advance(minutes=2)  # past the lifetime, though used two minutes ago
    assert not _opens(busy)
    again = signed_in(app, "dispatcher")  # signing in again starts a new one
    assert _opens(again)


def test_deactivation_ends_every_session_and_token(app, engine):
    browser = signed_in(app, "dept_yjj")
    token = engine.new_token("dept_yjj")
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/tasks", headers=bearer).status_code == 200
    engine.deactivate_user("dept_yjj", by="admin")
    assert not _opens(browser)
    assert api.get("/api/v1/tasks", headers=bearer).status_code == 401
    page = app.test_client().get("/login")
    login = {"username": "dept_yjj", "password": PASSWORD, "csrf_token": csrf(page.text)}
    assert app.test_client().post("/login", data=login).status_code in (400, 401)
    audit = engine.verify_audit()
    assert audit.ok and audit.chains >= 2  # the deactivation is on the user's chain


def test_the_session_token_is_new_at_every_sign_in(app, engine):
    # Fixation: the attacker plants their own (anonymous) cookie in the victim's browser.
    attacker = app.test_client()
    attacker.get("/login")
    planted = _cookie(attacker)
    victim = _with_cookie(app, planted)
    page = victim.get("/login")
    signed = victim.post(
        "/login",
        data={"username": "dispatcher", "password": PASSWORD, "csrf_token": csrf(page.text)},
    )
    assert signed.status_code == 302
    assert _cookie(victim) != planted
    assert not _opens(attacker)
    assert not _opens(_with_cookie(app, planted))
    # two sign-ins of one person are two sessions: ending one leaves the other
    other = signed_in(app, "dispatcher")
    _sign_out(other)
    assert _opens(victim)


def test_a_cookie_naming_the_user_as_earlier_releases_did_opens_nothing(app):
    """Even signed with the installation's own key: a user id is no session token."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    forged = serializer.dumps({"_user_id": "admin", "_fresh": True})
    assert not _opens(_with_cookie(app, forged))


def test_checking_a_session_is_one_primary_key_lookup(app, engine):
    browser = signed_in(app, "dispatcher")
    browser.get(QUEUE)  # any last_seen write of the sign-in minute is done
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        if "web_sessions" in statement:
            statements.append(" ".join(statement.split()))

    event.listen(engine.db.sa, "before_cursor_execute", seen)
    try:
        assert _opens(browser, "/inbox")
    finally:
        event.remove(engine.db.sa, "before_cursor_execute", seen)
    assert len(statements) == 1, statements
    assert (
        statements[0].startswith("SELECT") and "WHERE web_sessions.token_hash =" in (statements[0])
    )
