"""Numbers, ids and JSON from outside, refused at the edge with a 4xx that names the problem;
nothing of a refused request is stored, and no stored case is ever unreadable."""

from __future__ import annotations

import json

import pytest

from engine import FormInvalid
from tests.helpers import MEMBER, REPORT, report
from tests.web.test_pages import signed_in

HUGE = "170129094611107147268751360"


@pytest.fixture
def api(app, engine):
    token = engine.new_token(MEMBER)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_ids_and_pages_no_database_can_hold_are_404_or_the_first_page(app, engine):
    dispatcher = signed_in(app, "dispatcher")
    assert dispatcher.get("/cases/99999999999999999999999").status_code == 404
    for page in ("abc", "99999999999999999999", "-3", ""):
        assert dispatcher.get("/queue", query_string={"page": page}).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/instances", "/api/v1/tasks", "/api/v1/notifications"])
def test_an_offset_past_any_page_is_refused_as_json(api, path):
    answer = api.get(path, query_string={"offset": HUGE})
    assert answer.status_code == 422 and answer.get_json()["error"] == "invalid"
    assert "offset" in answer.get_json()["fields"]


def test_a_latitude_that_is_not_a_number_is_refused_and_nothing_is_stored(api, engine):
    body = json.dumps({**REPORT, "location": {"lat": 1.0, "lng": 2.0}}).replace("1.0", "NaN")
    answer = api.post(
        "/api/v1/processes/hazard_handling/instances", data=body, content_type="application/json"
    )
    assert answer.status_code == 422 and "location" in answer.get_json()["fields"]
    assert engine.instances() == []


@pytest.mark.parametrize("depth", [400, 5000])
def test_deeply_nested_data_is_refused_at_the_door(api, engine, depth):
    nested = "[" * depth + "]" * depth
    body = json.dumps({**REPORT, "location": {"address": "x"}}).replace('"x"', nested)
    answer = api.post(
        "/api/v1/processes/hazard_handling/instances", data=body, content_type="application/json"
    )
    assert answer.status_code == 400 and "deeper" in answer.get_json()["message"]
    assert engine.instances() == []


def test_the_engine_itself_refuses_data_too_deep_to_keep(engine):
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(FormInvalid) as refused:
        engine.start(
            "hazard_handling", {**REPORT, "location": {"address": deep}}, engine.actor(MEMBER)
        )
    assert "location" in refused.value.fields
    case = report(engine)  # and a case stays readable
    assert engine.instance(case)["data"]["unit"] == REPORT["unit"]


def test_marking_read_needs_the_ids_or_all(api, engine):
    case = report(engine)
    assert case
    assert api.post("/api/v1/notifications/read", json={}).status_code == 422
    answer = api.post("/api/v1/notifications/read", json={"all": True})
    assert answer.status_code == 200 and "marked" in answer.get_json()


def test_an_unknown_api_path_is_json(api):
    answer = api.get("/api/v1/nothing-here")
    assert answer.status_code == 404 and answer.get_json()["error"] == "not_found"
