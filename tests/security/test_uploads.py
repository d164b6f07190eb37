"""Uploads that attack: decompression bombs (a PNG of 30000×30000 in under a megabyte, a GIF of
35 bytes declaring 65535×65535), an image past the pixel limit, and more photos than a form
takes. Each is a real file made here, posted through the real forms; each is refused with a
4xx naming the photo field in the reader's language, and nothing of a refused post is written:
no file under the data folder, no row."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from engine import Engine, FormInvalid
from engine.attachments import PhotoBatch, check_photo
from engine.models import Attachment
from tests.helpers import MEMBER, RECTIFY_REPORT, REPORT, open_task, report, to_rectify
from tests.web.test_pages import csrf, signed_in


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of(width: int, height: int) -> bytes:
    """A valid 1-bit grayscale PNG of any size, all black: its zlib stream of zeros is tiny
    (30000×30000 is about 110 KB at level 9; the issue's 875 KB one was RGB)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def gif_bomb() -> bytes:
    """35 bytes: a GIF (two colours) whose screen and only frame declare 65535×65535."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0)
    data = b"\x02\x02\x4c\x01\x00"  # LZW minimum code size 2, one tiny sub-block, terminator
    return screen + frame + data + b"\x3b"


def small_png(color: str, size: tuple[int, int] = (32, 24)) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, color).save(data, "PNG")
    return data.getvalue()


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def photo_rows(engine: Engine) -> int:
    with engine.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Attachment))


def test_the_bombs_are_what_the_issue_says():
    bomb = png_of(30000, 30000)
    assert len(bomb) < 900_000
    with pytest.raises(Image.DecompressionBombError):  # Pillow itself calls both bombs
        Image.open(io.BytesIO(bomb))
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(gif_bomb()))
    gif = gif_bomb()
    assert len(gif) == 35


@pytest.fixture
def reporter(app):
    return signed_in(app, MEMBER, "en")


def _post_report(client, uploads: list[tuple[bytes, str]], **fields):
    page = client.get("/report/hazard_handling")
    data = {**REPORT, **fields, "csrf_token": csrf(page.text)}
    data["photos__upload"] = [(io.BytesIO(content), name) for content, name in uploads]
    return client.post("/report/hazard_handling", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("bomb.png", lambda: png_of(30000, 30000), "at most 40 megapixels"),
        ("bomb.gif", gif_bomb, "at most 40 megapixels"),
        ("big.png", lambda: png_of(12000, 12000), "at most 40 megapixels"),
        ("script.png", lambda: b"#!/bin/sh\nrm -rf /\n", "only JPEG, PNG, GIF or WebP"),
    ],
)
def test_a_bomb_on_the_report_form_is_a_422_naming_the_field_and_writes_nothing(
    reporter, engine, name, make, message
):
    before = photo_rows(engine)
    answer = _post_report(reporter, [(small_png("red"), "ok.png"), (make(), name)])
    assert answer.status_code == 422
    assert f"“Photos on site”: {'a photo may have ' if 'pixels' in message else ''}" in answer.text
    assert message in answer.text
    assert "Photos you chose were not kept" in answer.text
    assert files_under(engine.photo_folder) == [] and photo_rows(engine) == before
    assert engine.instances(created_by=MEMBER) == []


def test_the_pixel_limit_is_phrased_in_chinese_for_a_chinese_reader(app, engine):
    answer = _post_report(signed_in(app, MEMBER), [(gif_bomb(), "bomb.gif")])
    assert answer.status_code == 422 and "「现场照片」的照片不能超过 40 百万像素" in answer.text
    assert files_under(engine.photo_folder) == []


def test_a_photo_over_the_byte_limit_is_refused_before_it_is_parsed(make_engine, tmp_path):
    engine = make_engine(photo_max_bytes=1000)
    with pytest.raises(FormInvalid) as refused:
        engine.check_photo(small_png("red", (400, 400)) + b"\x00" * 2000, "photos", "现场照片")
    assert refused.value.reasons["photos"].code == "photo_too_large"


def test_the_pixel_limit_is_configurable(make_engine):
    engine = make_engine(photo_max_pixels=100)
    with pytest.raises(FormInvalid) as refused:
        engine.check_photo(small_png("red", (11, 10)), "photos")
    assert refused.value.reasons["photos"].params["limit"] == 0
    assert engine.check_photo(small_png("red", (10, 10)), "photos").content_type == "image/png"


def test_31_photos_for_a_form_that_takes_9_write_nothing(reporter, engine):
    uploads = [(small_png((i, 0, 0)), f"p{i}.png") for i in range(31)]  # type: ignore[arg-type]
    answer = _post_report(reporter, uploads)
    assert answer.status_code == 422 and "“Photos on site” takes at most 9 items" in answer.text
    assert files_under(engine.photo_folder) == [] and photo_rows(engine) == 0


def test_a_form_refused_for_another_field_keeps_none_of_its_photos(reporter, engine):
    answer = _post_report(reporter, [(small_png("blue"), "p.png")], description="")
    assert answer.status_code == 422 and "Photos you chose were not kept" in answer.text
    assert 'name="photos" value=' not in answer.text  # no id of a photo that was not kept
    assert files_under(engine.photo_folder) == [] and photo_rows(engine) == 0


def test_an_accepted_report_stores_its_photos_linked_to_the_case(reporter, engine):
    answer = _post_report(reporter, [(small_png("green"), "p.png"), (png_of(6000, 6000), "q.png")])
    assert answer.status_code == 302
    case = int(re.search(r"/cases/(\d+)", answer.headers["Location"]).group(1))
    photos = engine.instance(case)["data"]["photos"]
    assert len(photos) == 2 and len(files_under(engine.photo_folder)) == 2
    with engine.db.reading() as session:
        linked = session.scalars(select(Attachment.instance_id)).all()
    assert linked == [case, case]
    assert reporter.get(f"/photos/{photos[0]}").status_code == 200


def test_the_public_form_refuses_a_bomb_and_writes_nothing(app, engine):
    public = app.test_client()
    public.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = public.get("/public/report")
    data = {
        **REPORT,
        "csrf_token": csrf(page.text),
        "photos__upload": [(io.BytesIO(gif_bomb()), "bomb.gif")],
    }
    answer = public.post("/public/report", data=data, content_type="multipart/form-data")
    assert answer.status_code == 422 and "at most 40 megapixels" in answer.text
    assert "Photos you chose were not kept" in answer.text
    assert files_under(engine.photo_folder) == [] and photo_rows(engine) == 0


def test_a_task_form_refuses_a_bomb_and_a_refused_completion_writes_nothing(app, engine):
    case = to_rectify(engine)
    dept = "dept_" + engine.instance(case)["data"]["department"]
    task = open_task(engine, dept, case, "rectify")
    worker = signed_in(app, dept, "en")
    page = worker.get(f"/tasks/{task['id']}")
    assert page.status_code == 200
    typed = {k: str(v) for k, v in RECTIFY_REPORT.items() if k != "rectify_photos"}
    for upload, changes, message in [
        (png_of(30000, 30000), {}, "“Photos after rectification”: a photo may have at most 40"),
        (small_png("green"), {"measures": ""}, "Photos you chose were not kept"),
    ]:
        data = {
            **typed,
            **changes,
            "csrf_token": csrf(page.text),
            "rectify_photos__upload": [(io.BytesIO(upload), "p.png")],
        }
        answer = worker.post(
            f"/tasks/{task['id']}/complete", data=data, content_type="multipart/form-data"
        )
        assert answer.status_code == 422 and message in answer.text
        assert files_under(engine.photo_folder) == [] and photo_rows(engine) == 0
    bomb = {
        "csrf_token": csrf(page.text),
        "rectify_photos__upload": [(io.BytesIO(gif_bomb()), "b.gif")],
    }
    draft = worker.post(f"/tasks/{task['id']}/draft", data=bomb, content_type="multipart/form-data")
    assert draft.status_code == 302 and files_under(engine.photo_folder) == []
    assert engine.draft(task["id"], engine.actor(dept)) is None
    good = {**typed, "csrf_token": csrf(page.text)}
    good["rectify_photos__upload"] = [(io.BytesIO(small_png("green")), "p.png")]
    done = worker.post(
        f"/tasks/{task['id']}/complete", data=good, content_type="multipart/form-data"
    )
    assert done.status_code == 302 and photo_rows(engine) == 1
    assert len(engine.instance(case)["data"]["rectify_photos"]) == 1


def test_a_batch_whose_transaction_fails_takes_its_files_back(engine, tmp_path):
    folder = tmp_path / "photos"
    upload = check_photo(small_png("red"), 10**6, 10**6)
    batch = PhotoBatch(folder, [upload])
    kept = batch.kept_if_committed(lambda ids: set())
    with pytest.raises(RuntimeError), kept, engine.db.transaction() as session:
        batch.store(session, MEMBER, engine.now(), None)
        assert len(files_under(folder)) == 1
        raise RuntimeError("the step failed after the photos were written")
    assert files_under(folder) == [] and photo_rows(engine) == 0
    # a refused post of an image that another post committed meanwhile: that file stays
    still = PhotoBatch(folder, [upload])
    kept = still.kept_if_committed(lambda ids: set(ids))
    with pytest.raises(RuntimeError), kept, engine.db.transaction() as session:
        still.store(session, MEMBER, engine.now(), None)
        raise RuntimeError("refused")
    assert len(files_under(folder)) == 1


def test_a_report_through_the_engine_stores_its_photos_in_its_transaction(engine):
    upload = engine.check_photo(small_png("red"), "photos")
    with pytest.raises(FormInvalid):
        engine.start("hazard_handling", {**REPORT, "unit": ""}, engine.actor(MEMBER), [upload])
    assert files_under(engine.photo_folder) == [] and photo_rows(engine) == 0
    with pytest.raises(FormInvalid) as refused:  # an id alone names no stored photo
        report(engine, photos=[upload.id])
    assert list(refused.value.fields) == ["photos"] and photo_rows(engine) == 0
    case = engine.start(
        "hazard_handling", {**REPORT, "photos": [upload.id]}, engine.actor(MEMBER), [upload]
    )
    assert photo_rows(engine) == 1 and len(files_under(engine.photo_folder)) == 1
    assert engine.photo(upload.id, engine.actor(MEMBER))[1] == "image/png"
    assert case
