"""Photos through the API: `POST /api/v1/photos` stores an image with the web forms' checks
and answers its id; a form's photo field takes only ids of photos that exist and that its
sender uploaded or that belong to a case they may see. A made-up id (the "测试内容0" an API
client once completed a rectification with) is refused, naming the field."""

from __future__ import annotations

import io

from PIL import Image

from tests.helpers import RECTIFY_REPORT, REPORT, tiny_png, to_rectify


def _rectify_task(client, case: int) -> str:
    tasks = client("dept_yjj").get("/tasks", task_name="rectify").json()["items"]
    return next(t["id"] for t in tasks if t["instance_id"] == case)


def test_a_made_up_photo_id_is_refused_naming_the_field(engine, client):
    case = to_rectify(engine)
    task = _rectify_task(client, case)
    made_up = {**RECTIFY_REPORT, "rectify_photos": ["测试内容0"]}
    refused = client("dept_yjj").post(f"/tasks/{task}/complete", made_up)
    assert refused.status_code == 422, refused.text
    assert list(refused.json()["fields"]) == ["rectify_photos"]
    assert "测试内容0" in refused.json()["fields"]["rectify_photos"]
    assert engine.instance(case)["open_tasks"][0]["task_name"] == "rectify"  # nothing done


def test_an_uploaded_photo_completes_the_rectification_and_joins_the_case(engine, client):
    case = to_rectify(engine)
    task = _rectify_task(client, case)
    uploaded = client("dept_yjj").upload(tiny_png((200, 30, 30)))
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()["id"]
    sent = client("dept_yjj").post(
        f"/tasks/{task}/complete", {**RECTIFY_REPORT, "rectify_photos": [photo]}
    )
    assert sent.status_code == 200, sent.text
    assert engine.instance(case)["data"]["rectify_photos"] == [photo]
    # linked to the case: the dispatcher who verifies it may now see it
    dispatcher = client("dispatcher")
    image = dispatcher.session.get(f"{dispatcher.base}/photos/{photo}")
    assert image.status_code == 200 and image.content == tiny_png((200, 30, 30))


def test_someone_elses_photo_of_a_case_one_cannot_see_is_refused(engine, client):
    # a member of another grid reports with a photo: dept_yjj does not see that case
    theirs = client("member_d2_t1_v1")
    other_photo = theirs.upload(tiny_png((1, 2, 3))).json()["id"]
    started = theirs.post(
        "/processes/hazard_handling/instances",
        {**REPORT, "grid": "ap-d2-t1-v1", "photos": [other_photo]},
    )
    assert started.status_code == 201, started.text
    case = to_rectify(engine)
    task = _rectify_task(client, case)
    refused = client("dept_yjj").post(
        f"/tasks/{task}/complete", {**RECTIFY_REPORT, "rectify_photos": [other_photo]}
    )
    assert refused.status_code == 422 and list(refused.json()["fields"]) == ["rectify_photos"]
    # a photo another person uploaded and has not used yet is theirs alone too
    pending = theirs.upload(tiny_png((4, 5, 6))).json()["id"]
    refused = client("dept_yjj").post(
        f"/tasks/{task}/complete", {**RECTIFY_REPORT, "rectify_photos": [pending]}
    )
    assert refused.status_code == 422


def test_uploads_have_the_limits_of_the_web_forms(engine, client):
    member = client("member_d1_t1_v1")
    not_an_image = member.upload(b"#!/bin/sh\necho hi\n", "x.png")
    assert not_an_image.status_code == 422 and list(not_an_image.json()["fields"]) == ["file"]
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")  # 48 megapixels, a few KB
    too_many_pixels = member.upload(out.getvalue())
    assert too_many_pixels.status_code == 422 and "file" in too_many_pixels.json()["fields"]
    nothing = member.session.post(member.base + "/photos", data={"x": "1"}, timeout=30)
    assert nothing.status_code == 422 and list(nothing.json()["fields"]) == ["file"]
    # what was refused was not stored
    assert not list((engine.photo_folder).rglob("*")) or all(
        p.is_dir() for p in engine.photo_folder.rglob("*")
    )
