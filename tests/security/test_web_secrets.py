"""The session key is never a constant: a forged cookie signed with a guessable key fails."""

from __future__ import annotations

import stat

from flask.sessions import SecureCookieSessionInterface

from webui import create_app


def test_each_installation_gets_its_own_secret(engine, tmp_path):
    app = create_app(engine)
    key = app.config["SECRET_KEY"]
    assert len(key) >= 40 and key != "dev-only-change-me"
    secret_file = engine.config.data_dir / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert create_app(engine).config["SECRET_KEY"] == key  # stable across restarts

    # A session cookie forged with a guessable key is not accepted.
    forger = create_app(engine)
    forger.secret_key = "dev-only-change-me"
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    forged = serializer.dumps({"_user_id": "admin", "_fresh": True})
    client = app.test_client()
    client.set_cookie("session", forged)
    assert client.get("/queue").status_code == 302  # back to the sign-in page
