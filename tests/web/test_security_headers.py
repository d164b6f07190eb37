"""Every answer carries the security headers; a case's photo is never kept by a shared cache."""

from __future__ import annotations

import io

from PIL import Image

from tests.helpers import MEMBER, REPORT
from tests.web.test_pages import signed_in


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_pages_api_and_errors_carry_the_headers(app):
    client = app.test_client()
    for path in ("/login", "/public/report", "/api/v1/openapi.json", "/no-such-page"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_a_cases_photo_is_private_to_the_browser(app, engine):
    upload = engine.check_photo(_png(), "photos")
    engine.start(
        "hazard_handling", {**REPORT, "photos": [upload.id]}, engine.actor(MEMBER), [upload]
    )
    answer = signed_in(app, MEMBER).get(f"/photos/{upload.id}")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"].startswith("private")
    assert "public" not in answer.headers["Cache-Control"]


def test_pages_are_read_fresh_and_static_files_are_not(app):
    """The back button after a task was done asks the server again (it says the task is done)
    instead of showing the old form; a shared computer keeps no case page after sign-out."""
    queue = signed_in(app, MEMBER).get("/queue")
    assert queue.headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/login").headers["Cache-Control"] == "no-store"
    style = app.test_client().get("/static/app.css")
    assert "no-store" not in style.headers.get("Cache-Control", "")
