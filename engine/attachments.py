"""Photos: images only (checked by decoding the content, not by the name), size-limited,
stored once by content hash under the data folder, served only to who may see their case."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from .errors import FieldError, FormInvalid
from .models import Attachment

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
