"""Photos: images only (checked by decoding the content, not by the name), size-limited,
stored once by content hash under the data folder, linked to their case by the form that
names them, served only to who may see their case."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import update
from sqlalchemy.orm import Session

from . import cases
from .errors import FieldError, Forbidden, FormInvalid, NotFound
from .models import Attachment
from .org import Actor
from .visibility import Visibility

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def image_type(content: bytes) -> str | None:
    """The MIME type if the bytes decode as one of the allowed image formats."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()  # walks the file structure: a renamed script fails here
            return FORMATS.get(image.format or "")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def store_photo(
    session: Session,
    folder: Path,
    content: bytes,
    uploaded_by: str,
    now: datetime,
    max_bytes: int,
    field: str = "photos",
) -> str:
    if len(content) > max_bytes:
        megabytes = max_bytes // (1024 * 1024)
        reason = FieldError("photo_too_large", f"照片不能超过 {megabytes} MB", {"limit": megabytes})
        raise FormInvalid("photo too large", {field: reason})
    content_type = image_type(content)
    if content_type is None:
        reason = FieldError("not_an_image", "只能上传 JPEG、PNG、GIF 或 WebP 图片")
        raise FormInvalid("not an image", {field: reason})
    digest = hashlib.sha256(content).hexdigest()
    path = folder / digest[:2] / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)  # never a half-written file under the final name
    if session.get(Attachment, digest) is None:
        session.add(
            Attachment(
                id=digest,
                content_type=content_type,
                size=len(content),
                uploaded_by=uploaded_by,
                uploaded_at=now,
            )
        )
    return digest


def photo_path(folder: Path, photo_id: str) -> Path:
    return folder / photo_id[:2] / photo_id


def attach_photos(session: Session, data: dict[str, Any], instance_id: int, username: str) -> None:
    """Link the photos a form named to its case: only unlinked photos the person uploaded, so
    that nobody can pull another case's or another person's photo into their own."""
    ids = [i for v in data.values() if isinstance(v, list) for i in v if isinstance(i, str)]
    if not ids:
        return
    session.execute(
        update(Attachment)
        .where(
            Attachment.id.in_(ids),
            Attachment.instance_id.is_(None),
            Attachment.uploaded_by == username,
        )
        .values(instance_id=instance_id)
    )


def photo(
    session: Session, folder: Path, photo_id: str, actor: Actor, rule: Visibility
) -> tuple[Path, str]:
    """The file and type of a photo the actor may see: theirs, or one of a case they see."""
    row = session.get(Attachment, photo_id)
    if row is None:
        raise NotFound("photo not found")
    if row.uploaded_by != actor.username and not (
        row.instance_id is not None and cases.can_view(session, actor, row.instance_id, rule)
    ):
        raise Forbidden("this photo belongs to a case you cannot see")
    return photo_path(folder, photo_id), row.content_type


def case_photo(
    session: Session, folder: Path, photo_id: str, instance_id: int, shown: list[str]
) -> tuple[Path, str]:
    """A photo linked to the case and among the ids its public status shows (`shown`)."""
    row = session.get(Attachment, photo_id)
    if row is None or row.instance_id != instance_id or photo_id not in shown:
        raise NotFound("photo not found")
    return photo_path(folder, photo_id), row.content_type


def pending_photo(
    session: Session, folder: Path, photo_id: str, uploaded_by: str
) -> tuple[Path, str]:
    """A photo `uploaded_by` stored and no case has yet (a form shown again after an error)."""
    row = session.get(Attachment, photo_id)
    if row is None or row.uploaded_by != uploaded_by or row.instance_id is not None:
        raise NotFound("photo not found")
    return photo_path(folder, photo_id), row.content_type
