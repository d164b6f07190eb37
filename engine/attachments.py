"""Photos: images only (checked by their structure, not by the name), limited in bytes and
in pixels before anything is decoded, written only with the submission that brings them
(two phases: checked in memory, stored in the command's transaction), stored once by content
hash under the data folder, linked to their case, served only to who may see their case."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import cases
from .errors import FieldError, Forbidden, FormInvalid, NotFound
from .models import Attachment, Instance
from .org import Actor
from .visibility import Visibility

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True)
class PhotoUpload:
    """An uploaded image that passed the checks, not yet written anywhere: `id` is its
    content hash, the id a form names it by."""

    id: str
    content_type: str
    content: bytes = field(repr=False)


def _refused(code: str, text: str, name: str, title: str, limit: Any = None) -> FormInvalid:
    params = {"title": title} if limit is None else {"title": title, "limit": limit}
    return FormInvalid(code, {name: FieldError(code, text, params)})


def _dimensions(content: bytes) -> tuple[int, int] | None:
    """Width and height from the image's header (Pillow opens lazily: nothing is decoded);
    None when Pillow itself calls the size a decompression bomb."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content)) as image:
                return image.size
        except Image.DecompressionBombError:
            return None


def image_type(content: bytes) -> str | None:
    """The MIME type if the bytes are one of the allowed image formats (their structure walked,
    the pixels not decoded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content)) as image:
                image.verify()  # walks the file structure: a renamed script fails here
                return FORMATS.get(image.format or "")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return None
        except Image.DecompressionBombError:
            return None


def check_photo(
    content: bytes, max_bytes: int, max_pixels: int, name: str = "photos", title: str = ""
) -> PhotoUpload:
    """The upload as a `PhotoUpload`, or FormInvalid naming the field: too many bytes (counted
    before anything is parsed), too many pixels (read from the header, before anything is
    decoded: a 35-byte GIF may declare 65535×65535), or not an image. Writes nothing."""
    title = title or name
    if len(content) > max_bytes:
        megabytes = max_bytes // (1024 * 1024)
        text = f"「{title}」的照片不能超过 {megabytes} MB"
        raise _refused("photo_too_large", text, name, title, megabytes)
    not_an_image = f"「{title}」只能上传 JPEG、PNG、GIF 或 WebP 图片"
    try:
        size = _dimensions(content)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refused("not_an_image", not_an_image, name, title) from None
    if size is None or size[0] * size[1] > max_pixels:
        megapixels = max_pixels // 1_000_000
        text = f"「{title}」的照片不能超过 {megapixels} 百万像素"
        raise _refused("photo_too_many_pixels", text, name, title, megapixels)
    content_type = image_type(content)
    if content_type is None:
        raise _refused("not_an_image", not_an_image, name, title)
    return PhotoUpload(hashlib.sha256(content).hexdigest(), content_type, content)


class PhotoBatch:
    """The photos of one submission, written only with it: `store` inside the command's
    transaction (files, then rows), and `kept_if_committed` around the transaction deletes the
    files this batch wrote when it does not commit (a refused form, a conflict, a failed step),
    so a refused submission leaves neither files nor rows."""

    def __init__(
        self, folder: Path, uploads: Iterable[PhotoUpload], rule: Visibility | None = None
    ) -> None:
        self.folder = folder
        self.uploads = list({u.id: u for u in uploads}.values())
        self.written: list[Path] = []
        self.rule = rule  # who may name a stored photo: its uploader, or who sees its case
        self.named: list[str] = []  # stored photos the form named (checked), linked by store

    def check_named(
        self,
        session: Session,
        schema: dict[str, Any] | None,
        accepted: dict[str, Any],
        actor: Actor,
    ) -> None:
        """Every photo id the form's photo fields name must be one of this batch's uploads,
        a stored photo the actor uploaded, or one of a case the actor may see: FormInvalid
        naming each field that names another (a made-up id, someone else's photo)."""
        fields = photo_fields(schema)
        named = {
            path: ids for path in fields if isinstance(ids := _value(accepted, path), list) and ids
        }
        ids = sorted({i for v in named.values() for i in v if isinstance(i, str)})
        fresh = {u.id for u in self.uploads}
        stored = [i for i in ids if i not in fresh]
        allowed = set(fresh)
        if stored:
            allowed |= set(
                session.scalars(
                    select(Attachment.id).where(
                        Attachment.id.in_(stored), Attachment.uploaded_by == actor.username
                    )
                )
            )
        if self.rule is not None and set(stored) - allowed:
            allowed |= set(
                session.scalars(
                    select(Attachment.id)
                    .join(Instance, Instance.id == Attachment.instance_id)
                    .where(Attachment.id.in_(stored), self.rule.rule(session, actor))
                )
            )
        refused: dict[str, FieldError] = {}
        for path, values in named.items():
            unknown = [v for v in values if not isinstance(v, str) or v not in allowed]
            if unknown:
                title = fields[path].get("title") or path
                text = f"「{title}」中的照片 {unknown[0]} 不存在或不能使用，请先上传"
                refused[path] = FieldError("photo_unknown", text, {"title": title})
        if refused:
            raise FormInvalid("表单有误，请按提示修改 (the form has errors)", refused)
        self.named = [i for i in ids if i not in fresh]

    @contextmanager
    def kept_if_committed(self, in_use: Callable[[list[str]], set[str]]) -> Iterator[None]:
        """`in_use(ids)`: which of these photos have a committed row (another submission of
        the same image may have committed meanwhile: its file stays)."""
        try:
            yield
        except BaseException:
            written, self.written = self.written, []
            if written:
                kept = in_use([path.name for path in written])
                for path in written:
                    if path.name not in kept:
                        path.unlink(missing_ok=True)
            raise

    def store(
        self, session: Session, uploaded_by: str, now: datetime, instance_id: int | None
    ) -> None:
        """Write the files not there yet and a row per new photo, linked to the case (if any)."""
        for upload in self.uploads:
            path = photo_path(self.folder, upload.id)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(".part")
                partial.write_bytes(upload.content)
                partial.replace(path)  # never a half-written file under the final name
                self.written.append(path)
            if session.get(Attachment, upload.id) is None:
                session.add(
                    Attachment(
                        id=upload.id,
                        content_type=upload.content_type,
                        size=len(upload.content),
                        uploaded_by=uploaded_by,
                        uploaded_at=now,
                        instance_id=instance_id,
                    )
                )
        if instance_id is not None:
            session.flush()
            ids = [u.id for u in self.uploads] + self.named
            attach_photos(session, {"": ids}, instance_id, uploaded_by)


def photo_fields(schema: dict[str, Any] | None, prefix: str = "") -> dict[str, dict[str, Any]]:
    """The photo fields a form lets people fill (`x-ui.widget: photos`, not read-only), by
    dotted path (a field inside an object: `plan.photos`)."""
    found: dict[str, dict[str, Any]] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if not isinstance(prop, dict) or prop.get("readOnly"):
            continue
        if (prop.get("x-ui") or {}).get("widget") == "photos":
            found[prefix + name] = prop
        elif prop.get("type") == "object":
            found.update(photo_fields(prop, prefix + name + "."))
    return found


def _value(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)  # type: ignore[assignment]
    return data


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


def photos_in_use(session: Session, ids: list[str]) -> set[str]:
    return set(session.scalars(select(Attachment.id).where(Attachment.id.in_(ids))))
