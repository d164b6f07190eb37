"""An API client that sends a task back as `GET /tasks/{id}` gave it, to a form that says
"these fields only": accepted; with a read-only field changed: refused naming it."""

from __future__ import annotations

import json

import pytest

from tests.web.test_api import Case

pytestmark = pytest.mark.slow


@pytest.fixture
def strict_receive(engine, folder):
    """The processes with the 签收 form limited to its own fields."""
    path = folder / "forms" / "receive.json"
    form = json.loads(path.read_text(encoding="utf-8"))
    form["additionalProperties"] = False
    path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    engine.deploy([folder])


def _round_trip(client, changes: dict) -> tuple[Case, object]:
    case = Case(client)
    case.accept_and_dispatch()
    task = case.task("dept_yjj", "receive")
    given = client("dept_yjj").get(f"/tasks/{task['id']}").json()
    read_only = {
        name: given["data"][name]
        for name, prop in given["form"]["properties"].items()
        if prop.get("readOnly") and name in given["data"]
    }
    assert {"unit", "grade", "deadline"} <= set(read_only)
    sent = {**read_only, "decision": "accept", **changes}
    return case, client("dept_yjj").post(f"/tasks/{task['id']}/complete", sent)


def test_the_task_sent_back_as_it_was_given_is_accepted(strict_receive, client):
    case, response = _round_trip(client, {})
    assert response.status_code == 200, response.text
    assert case.open_tasks() == ["rectify"]


def test_a_changed_read_only_field_is_refused_naming_it(strict_receive, client):
    case, response = _round_trip(client, {"grade": "major"})
    assert response.status_code == 422, response.text
    assert set(response.json()["fields"]) == {"grade"}
    assert case.open_tasks() == ["receive"]
