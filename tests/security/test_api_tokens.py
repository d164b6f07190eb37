"""API tokens, tried over HTTP as a program (or someone holding its token) would: they expire,
their owner lists and revokes them, a revoked or expired token and a deactivated user's token
are refused with 401, and no token lists or revokes another user's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from engine.models import ApiToken


def _api(app, token: str):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_an_expired_token_is_refused(app, engine):
    token = engine.new_token("dispatcher", days=1)
    api = _api(app, token)
    assert api.get("/api/v1/tasks").status_code == 200
    with engine.db.transaction() as session:  # a day passes
        session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    refused = api.get("/api/v1/tasks")
    assert refused.status_code == 401 and "expired" in refused.json["message"]
    assert engine.tokens("dispatcher") == []


def test_a_new_token_lasts_the_configured_days_or_the_days_asked(engine):
    engine.config.api_token_days = 7
    engine.new_token("dispatcher")
    engine.new_token("dispatcher", days=400, label="12345 hotline")
    longer, default = engine.tokens("dispatcher")
    now = datetime.now(UTC)
    assert abs(_when(default["expires_at"]) - (now + timedelta(days=7))) < timedelta(minutes=1)
    assert abs(_when(longer["expires_at"]) - (now + timedelta(days=400))) < timedelta(minutes=1)
    assert longer["label"] == "12345 hotline" and default["label"] is None
    for days in (0, -1, 4000):
        with pytest.raises(ValueError):
            engine.new_token("dispatcher", days=days)


def test_the_owner_lists_and_revokes_their_tokens_and_a_revoked_one_is_refused(app, engine):
    first = engine.new_token("dispatcher", label="first")
    second = engine.new_token("dispatcher", label="second")
    api = _api(app, first)
    listed = api.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert [t["label"] for t in listed.json] == ["second", "first"]
    assert first not in listed.text and second not in listed.text  # never shown again
    second_id = listed.json[0]["id"]
    assert _api(app, second).get("/api/v1/tasks").status_code == 200
    assert api.delete(f"/api/v1/tokens/{second_id}").status_code == 204
    assert _api(app, second).get("/api/v1/tasks").status_code == 401
    assert api.get("/api/v1/tasks").status_code == 200  # the other one still works
    assert api.delete(f"/api/v1/tokens/{second_id}").status_code == 404
    own_id = listed.json[1]["id"]
    assert api.delete(f"/api/v1/tokens/{own_id}").status_code == 204  # itself, too
    assert api.get("/api/v1/tokens").status_code == 401
    assert engine.verify_audit().ok  # made and revoked on the user's audit chain


def test_no_token_lists_or_revokes_another_users_tokens(app, engine):
    theirs = engine.new_token("dispatcher", label="dispatcher's")
    their_id = engine.tokens("dispatcher")[0]["id"]
    mine = _api(app, engine.new_token("dept_yjj"))
    assert "dispatcher's" not in mine.get("/api/v1/tokens").text
    assert mine.delete(f"/api/v1/tokens/{their_id}").status_code == 404
    assert _api(app, theirs).get("/api/v1/tasks").status_code == 200


def test_a_deactivated_users_tokens_are_refused(app, engine):
    token = engine.new_token("dept_yjj")
    assert _api(app, token).get("/api/v1/tasks").status_code == 200
    engine.deactivate_user("dept_yjj")
    assert _api(app, token).get("/api/v1/tasks").status_code == 401
    assert engine.tokens("dept_yjj") == []


def test_the_openapi_document_has_the_token_routes(app):
    paths = app.test_client().get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/tokens"]
    assert "delete" in paths["/api/v1/tokens/{token_id}"]
