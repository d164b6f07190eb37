"""The public follow their report: the lookup form (case number and lookup code), the status
page saying how a closed case ended (the declared `x-public-status` fields), the report's photos
through the lookup code only, and a refused (429) report shown again with everything typed."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from engine import PUBLIC
from tests.helpers import (
    REPORT,
    accept,
    act,
    close_invalid,
    dispatch_as_proposed,
    edit_json,
    merge_duplicate,
)
from tests.web.test_pages import csrf, signed_in
from webui.public import lookup_code


def _public_case(engine, **changes) -> int:
    return engine.start("hazard_handling", {**REPORT, **changes}, PUBLIC)


def _main(page) -> str:
    """The page's main text, tags and extra spaces dropped."""
    main = re.search(r"<main>(.*)</main>", page.text, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def _status(client, case: int):
    with client.application.test_request_context():
        code = lookup_code(case)
    return client.get(f"/public/cases/{case}?code={code}"), code


def _png(color: str) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(data, "PNG")
    data.seek(0)
    return data


def test_an_invalid_report_says_the_dispatchers_reason_and_no_names(app, engine):
    case = _public_case(engine)
    public = app.test_client()
    running, _code = _status(public, case)
    assert "分类定级" in _main(running) and "理由" not in _main(running)
    close_invalid(engine, case, reason="经核实该地址无此单位")
    closed, _code = _status(public, case)
    text = _main(closed)
    assert "已结案" in text and "无效结案" in text
    assert "核实结果 无效" in text and "理由 经核实该地址无此单位" in text
    assert "2026-03-02" in text  # the day it was closed
    for internal in ("dispatcher", "调度员", "牵头部门"):  # who did it stays inside
        assert internal not in closed.text


def test_a_duplicate_says_which_case_it_was_merged_into(app, engine):
    earlier = _public_case(engine)
    case = _public_case(engine)
    merge_duplicate(engine, case, earlier)
    english = app.test_client()
    english.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page, _code = _status(english, case)
    text = _main(page)
    assert "Closed" in text and "Duplicate" in text
    # the title x-public-status gives it, and the number the duplicate field was stored as
    assert f"Merged into case {engine.instance(earlier)['number']}" in text
    assert "Reason 与较早的举报为同一隐患" in text


def test_an_accepted_case_shows_no_reason_and_an_archived_one_says_so(app, engine):
    from tests.helpers import RECTIFY_REPORT

    case = _public_case(engine)
    accept(engine, case)
    # a reason typed without JS on an accepted report is not the public's: the form asks for
    # it only for an invalid or duplicate report
    with engine.db.transaction() as session:
        from engine.models import Instance

        row = session.get(Instance, case)
        row.data = {**row.data, "reason": "内部备注"}
    page, _code = _status(app.test_client(), case)
    assert "受理" in _main(page) and "内部备注" not in page.text
    dept = dispatch_as_proposed(engine, case)
    act(engine, dept, case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": True})
    page, _code = _status(app.test_client(), case)
    text = _main(page)
    assert "已结案" in text and "销号归档" in text and "2026-03-02" in text
    assert "赵经理" not in page.text  # the rectification's people are not shown


def test_the_lookup_form_finds_a_case_by_number_and_code_and_nothing_else(app, engine):
    case = _public_case(engine)
    other = _public_case(engine)
    public = app.test_client()
    form = public.get("/public/lookup")
    assert form.status_code == 200 and 'name="number"' in form.text and 'name="code"' in form.text
    assert "/public/lookup" in public.get("/public/report").text  # linked from the report
    assert "/public/lookup" in public.get("/login").text  # and from the sign-in page
    with app.test_request_context():
        code = lookup_code(case)
    found = public.get("/public/lookup", query_string={"number": f"#{case}", "code": code.upper()})
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/public/cases/{case}?code={code}")
    answers = [
        public.get("/public/lookup", query_string={"number": number, "code": typed})
        for number, typed in ((other, code), (case, "0000000000"), (99999, code), ("x", code))
    ]
    assert {a.status_code for a in answers} == {404}
    assert (
        len(
            {
                _main(a).replace(str(other), "").replace("99999", "").replace("x", "")
                for a in answers
            }
        )
        == 1
    )  # one and the same answer: nothing to enumerate
    assert "没有找到与此案件编号和查询码相符的案件" in answers[0].text


def test_wrong_lookups_are_rate_limited_and_the_form_keeps_what_was_typed(app, engine):
    case = _public_case(engine)
    public = app.test_client()
    public.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with app.test_request_context():
        code = lookup_code(case)
    for _ in range(25):  # legitimate reloads of one's own status page never count
        assert public.get(f"/public/cases/{case}?code={code}").status_code == 200
    wrong = [
        public.get("/public/lookup", query_string={"number": case, "code": "abcdef0123"})
        for _ in range(21)
    ]
    assert [w.status_code for w in wrong] == [404] * 20 + [429]
    refused = wrong[-1]
    assert "Too many lookups came from your address" in refused.text
    assert f'value="{case}"' in refused.text and 'value="abcdef0123"' in refused.text
    assert public.get(f"/public/cases/{case}?code={code}").status_code == 429  # shared limit


def test_the_report_photos_are_seen_only_through_the_lookup_code(app, engine):
    public = app.test_client()
    form = public.get("/public/report")
    posted = {
        **REPORT,
        "contact": "13800001111",
        "csrf_token": csrf(form.text),
        "photos__upload": (_png("red"), "hazard.png"),
    }
    done = public.post("/public/report", data=posted, content_type="multipart/form-data")
    assert done.status_code == 302
    case = int(re.search(r"/public/cases/(\d+)", done.headers["Location"]).group(1))
    data = engine.instance(case)["data"]
    assert data["contact"] == "13800001111" and len(data["photos"]) == 1
    photo = data["photos"][0]
    status = public.get(done.headers["Location"])
    assert "13800001111" not in status.text  # the contact is for the dispatcher only
    src = re.search(r'<img class="thumb" src="([^"]+)"', status.text).group(1).replace("&amp;", "&")
    assert src.startswith(f"/public/cases/{case}/photos/{photo}?code=")
    stranger = app.test_client()
    assert stranger.get(src).status_code == 200  # the code is the key
    assert stranger.get(src.split("?")[0]).status_code == 404
    assert stranger.get(src.split("?")[0] + "?code=0123456789").status_code == 404
    assert stranger.get(f"/photos/{photo}").status_code == 302  # the signed-in route: sign in
    other = _public_case(engine)
    with app.test_request_context():
        other_code = lookup_code(other)
    assert (
        stranger.get(f"/public/cases/{other}/photos/{photo}?code={other_code}").status_code == 404
    )
    dispatcher = signed_in(app, "dispatcher")
    assert dispatcher.get(f"/photos/{photo}").status_code == 200  # the dispatcher sees it


def test_a_form_shown_again_keeps_none_of_its_photos_and_says_so(app, engine):
    """A refused post writes nothing (tests/security/test_uploads.py): its photos are not
    stored, so the form shown again has none of them and asks for them again."""
    public = app.test_client()
    form = public.get("/public/report")
    posted = {
        **{k: v for k, v in REPORT.items() if k != "description"},
        "csrf_token": csrf(form.text),
        "photos__upload": (_png("blue"), "hazard.png"),
    }
    again = public.post("/public/report", data=posted, content_type="multipart/form-data")
    assert again.status_code == 422 and "请填写「隐患描述」" in again.text
    assert "所选照片未保存，请重新选择。" in again.text
    assert 'name="photos" value=' not in again.text and 'class="thumb"' not in again.text
    assert not engine.photo_folder.exists() or not any(engine.photo_folder.rglob("*.*"))
    posted = {**REPORT, "csrf_token": csrf(form.text), "photos__upload": (_png("blue"), "p.png")}
    done = public.post("/public/report", data=posted, content_type="multipart/form-data")
    assert done.status_code == 302
    case = int(re.search(r"/public/cases/(\d+)", done.headers["Location"]).group(1))
    assert len(engine.instance(case)["data"]["photos"]) == 1


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-CN", "短时间内来自您地址的举报过多，本次举报尚未提交"),
        ("en", "Too many reports came from your address in a short time"),
    ],
)
def test_a_refused_report_comes_back_with_everything_typed(app, engine, language, message):
    public = app.test_client()
    public.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    form = public.get("/public/report")
    for _ in range(5):
        posted = {**REPORT, "csrf_token": csrf(form.text)}
        assert public.post("/public/report", data=posted).status_code == 302
    typed = {
        **REPORT,
        "unit": "东关农贸市场",
        "description": "液化气钢瓶堆放在通道内\n无人看管",
        "contact": "13900002222",
        "location.address": "东关路 18 号",
        "csrf_token": csrf(form.text),
    }
    refused = public.post("/public/report", data=typed)
    assert refused.status_code == 429
    assert message in refused.text
    assert 'value="东关农贸市场"' in refused.text and 'value="13900002222"' in refused.text
    assert "液化气钢瓶堆放在通道内\n无人看管</textarea>" in refused.text
    assert 'value="东关路 18 号"' in refused.text
    assert re.search(r'<option value="hazardous_chemicals"[^>]* selected', refused.text)
    assert re.search(r'<option value="ap-d1-t1-v1"[^>]* selected', refused.text)
    assert 'name="csrf_token"' in refused.text  # it can be sent again as it is
    assert len(engine.instances()) == 5  # and it was not sent


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("outcome", 'must be a list of field names or {"field": name, "title": text}'),
        ([{"field": "reason", "label": "x"}], 'must be a list of field names or {"field"'),
        (["outcome", {"field": "colour"}], "'colour': no form of 'hazard_handling' has it"),
    ],
    ids=["not-a-list", "unknown-key", "unknown-field"],
)
def test_the_public_status_fields_are_checked_at_deploy(engine, folder, value, message):
    from engine import DeployRefused

    edit_json(folder / "forms" / "report.json", lambda d: d.update({"x-public-status": value}))
    with pytest.raises(DeployRefused) as refused:
        engine.deploy([folder])
    problems = [str(p) for p in refused.value.problems]
    assert len(problems) == 1 and problems[0].startswith("forms/report.json: x-public-status: ")
    assert message in problems[0]
