"""schemathesis over the OpenAPI document the server serves, against a real server on
127.0.0.1, with a dispatcher's token and real cases to aim at: for every operation, requests
generated from the document (valid ones, and invalid ones that must be refused) answer no 5xx,
no status the document does not list for that operation, the content type it names, and a
body that conforms to its schema. The number of examples is bounded to keep the run short."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import report, to_rectify
from tests.web.conftest import Server

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12  # per operation and generation mode


def _fuzz(
    operation: APIOperation,
    mode: GenerationMode,
    session: requests.Session,
    tried: dict[str, int],
) -> None:
    """Up to EXAMPLES requests of one kind to one operation; the first failure raises."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        tried[operation.label] = tried.get(operation.label, 0) + 1
        response = case.call(session=session, timeout=30)
        case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_answers_as_its_document_says(engine, database_url, tmp_path):
    to_rectify(engine)  # a case with a department, one waiting to be classified
    report(engine)
    for _ in range(3):  # tokens of someone else, so that the token ids tried are not ours
        engine.new_token("dispatcher2")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {engine.new_token('dispatcher')}"
    server = Server(database_url, tmp_path / "data")
    server.start()
    try:
        schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        failures: list[str] = []
        tried: dict[str, int] = {}
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz(operation, mode, session, tried)
                except (Exception, BaseExceptionGroup) as failure:  # each one tried and named
                    failures.append(f"{operation.label} ({mode.value}): {failure}")
        still_ours = session.get(server.url + "/api/v1/tokens", timeout=10)
    finally:
        server.stop()
    print(f"schemathesis: {len(operations)} operations, {sum(tried.values())} cases")
    assert failures == [], "\n\n".join(failures)
    assert still_ours.status_code == 200  # no case revoked the token the run used
    assert set(tried) == {operation.label for operation in operations}  # every one ran


# --- what the run found, each tried on its own ---------------------------------------------


@pytest.fixture
def api(app, engine):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {engine.new_token('dept_yjj')}"
    return client


@pytest.mark.parametrize("ids", [[-44708871786403194235835327184896, 110], [2**63], [0]])
def test_notification_ids_no_table_can_hold_are_refused_and_nothing_is_marked(api, engine, ids):
    to_rectify(engine)  # dept_yjj is told of the assignment
    before = api.get("/api/v1/notifications").get_json()["unread"]
    refused = api.post("/api/v1/notifications/read", json={"ids": ids})
    assert refused.status_code == 422 and "ids" in next(iter(refused.get_json()["fields"]))
    assert api.get("/api/v1/notifications").get_json()["unread"] == before > 0


def test_the_document_lists_the_refusals_of_a_body_too_deep_or_too_large(api, app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"400", "413"} <= set(operation["responses"]), (method, path)
    deep = api.post(
        "/api/v1/notifications/read", data="[" * 40 + "]" * 40, content_type="application/json"
    )
    assert deep.status_code == 400 and deep.get_json()["error"] == "invalid"
    large = api.post(
        "/api/v1/notifications/read",
        data='{"all": true, "x": "' + "a" * (1024 * 1024) + '"}',
        content_type="application/json",
    )
    assert large.status_code == 413 and large.get_json()["error"] == "too_large"
