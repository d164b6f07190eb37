"""Photo upload and download for forms: the engine checks and stores, this maps HTTP to it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, send_file
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.datastructures import FileStorage, MultiDict

from engine import Actor, Forbidden, NotFound

from .context import current_actor, current_engine

photos_blueprint = Blueprint("photos", __name__)


def _photo_fields(schema: dict[str, Any] | None, prefix: str = "") -> list[str]:
    names = []
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        if (prop.get("x-ui") or {}).get("widget") == "photos":
            names.append(prefix + name)
        elif prop.get("type") == "object":
            names.extend(_photo_fields(prop, prefix + name + "."))
    return names


def save_photos(
    schema: dict[str, Any] | None, files: MultiDict, actor: Actor | None = None
) -> dict[str, list[str]]:
    """Store each uploaded image of the form's photo fields as `actor` (default: the person
    signed in); field name -> photo ids."""
    engine = current_engine()
    uploader = actor or current_actor()
    stored: dict[str, list[str]] = {}
    for name in _photo_fields(schema):
        uploads: list[FileStorage] = [f for f in files.getlist(name + "__upload") if f.filename]
        for upload in uploads:
            stored.setdefault(name, []).append(
                engine.store_photo(upload.read(), uploader, field=name)
            )
    return stored


@photos_blueprint.get("/photos/<photo_id>")
@login_required
def photo(photo_id: str) -> ResponseReturnValue:
    engine = current_engine()
    if not photo_id.isalnum():
        abort(404)
    try:
        path, content_type = engine.photo(photo_id, current_actor())
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    response = send_file(path, mimetype=content_type, max_age=86400)
    # a case's photo is for who may see the case: no shared cache may keep it
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
