"""Photo upload and download for forms: the engine checks and stores, this maps HTTP to it.
Uploads are checked first and handed to the command of the form (start, complete, draft):
a refused post writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, send_file
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.datastructures import FileStorage, MultiDict

from engine import Forbidden, NotFound, PhotoUpload

from .context import current_actor, current_engine

photos_blueprint = Blueprint("photos", __name__)


def _photo_fields(
    schema: dict[str, Any] | None, prefix: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    fields = []
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        if (prop.get("x-ui") or {}).get("widget") == "photos":
            fields.append((prefix + name, prop))
        elif prop.get("type") == "object":
            fields.extend(_photo_fields(prop, prefix + name + "."))
    return fields


@dataclass
class Uploads:
    """The photos of one post, checked and held in memory: `ids` (field -> photo ids) go into
    the form data, `photos` to the engine command, which stores them only if it commits."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    photos: list[PhotoUpload] = field(default_factory=list)


def photos_chosen(files: MultiDict) -> bool:
    """Whether the post carried any file (a browser sends an empty part for an empty input)."""
    return any(upload.filename for _, upload in files.items(multi=True))


def checked_photos(schema: dict[str, Any] | None, files: MultiDict) -> Uploads:
    """Check each uploaded image of the form's photo fields (FormInvalid naming the field);
    nothing is written here."""
    engine = current_engine()
    uploads = Uploads()
    for name, prop in _photo_fields(schema):
        chosen: list[FileStorage] = [f for f in files.getlist(name + "__upload") if f.filename]
        for upload in chosen:
            checked = engine.check_photo(upload.read(), name, prop.get("title") or name)
            uploads.ids.setdefault(name, []).append(checked.id)
            uploads.photos.append(checked)
    return uploads


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
