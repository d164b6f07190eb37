"""Deployments through the API of a running server, with an administrator's token: list, a
version's files as a zip, a dry run that answers the problems by file and element, a deploy
that is all or nothing and audited; everyone else is refused with 403."""

from __future__ import annotations

import io
import zipfile

import pytest
import requests

from tests.engine.test_deployment_versions import DMN, shorter_deadline
from tests.helpers import MEMBER, report

pytestmark = pytest.mark.slow


def post_files(server, token: str, files: list[tuple[str, bytes]], **fields) -> requests.Response:
    params = {"dry_run": "1"} if fields.pop("dry_run", False) else {}
    return requests.post(
        f"{server.url}/api/v1/deployments",
        params=params,
        data=fields,
        files=[("files", (name, data)) for name, data in files],
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def test_an_administrator_lists_downloads_validates_and_deploys(server, client, token_for, engine):
    admin = client("admin")
    listed = admin.get("/deployments")
    assert listed.status_code == 200
    first = listed.json()[0]
    assert first["versions"][0]["current"] and "dispatch.dmn" in first["files"]

    zipped = admin.get(f"/deployments/{first['id']}/files")
    assert zipped.status_code == 200 and zipped.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    assert archive.read("dispatch.dmn") == DMN.read_bytes()

    broken = DMN.read_text(encoding="utf-8").replace(
        "<text>10</text>", "<text>__builtins__</text>", 1
    )
    token = token_for("admin")
    checked = post_files(
        server, token, [("dispatch.dmn", broken.encode())], base=first["id"], dry_run=True
    )
    assert checked.status_code == 200 and not checked.json()["ok"]
    problem = checked.json()["problems"][0]
    assert problem["file"] == "dispatch.dmn" and problem["element"] and problem["message"]

    refused = post_files(server, token, [("dispatch.dmn", broken.encode())], base=first["id"])
    assert refused.status_code == 422 and refused.json()["problems"][0]["file"] == "dispatch.dmn"
    assert len(admin.get("/deployments").json()) == 1  # nothing stored

    dry = post_files(server, token, [shorter_deadline()], base=first["id"], dry_run=True)
    assert dry.json()["ok"] and len(admin.get("/deployments").json()) == 1

    done = post_files(server, token, [shorter_deadline()], base=first["id"], comment="七天")
    assert done.status_code == 201, done.text
    assert done.json()["versions"] == {"hazard_handling": 2}
    newest = admin.get("/deployments").json()[0]
    assert newest["comment"] == "七天" and newest["deployed_by"] == "admin"
    again = post_files(server, token, [("all.zip", zipped.content)])  # a roll back
    assert again.status_code == 201 and again.json()["same_files_as"] == first["id"]
    unchanged = post_files(server, token, [("all.zip", zipped.content)])
    assert unchanged.status_code == 200 and not unchanged.json()["created"]


@pytest.mark.parametrize("username", ["dispatcher", "dept_yjj", "member_d1_t1_v1", "leader_ap"])
def test_everyone_else_is_refused(server, client, token_for, username):
    other = client(username)
    assert other.get("/deployments").status_code == 403
    assert other.get("/deployments/1/files").status_code == 403
    answer = post_files(server, token_for(username), [shorter_deadline()], base=1)
    assert answer.status_code == 403
    assert client("admin").get("/deployments").json()[0]["id"] == 1  # nothing deployed


def test_the_document_lists_the_deployment_endpoints_and_their_statuses(client):
    document = client("admin").get("/openapi.json").json()
    post = document["paths"]["/api/v1/deployments"]["post"]
    assert {"200", "201", "401", "403", "413", "422"} <= set(post["responses"])
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "/api/v1/deployments/{deployment_id}/files" in document["paths"]


def test_an_administrator_previews_and_moves_running_cases_through_the_api(
    server, client, token_for, engine
):
    first, second = report(engine), report(engine)
    base = engine.deployments()[0]["id"]
    assert (
        post_files(server, token_for("admin"), [shorter_deadline()], base=str(base)).status_code
        == 201
    )
    admin = client("admin")
    preview = admin.post("/processes/hazard_handling/migrations", {"instance_ids": [first]})
    assert preview.status_code == 200
    [plan] = preview.json()
    assert plan["safe"] and not plan["migrated"] and plan["to_version"] == 2
    assert engine.instance(first)["version"] == 1  # a preview moves nothing

    moved = admin.post(
        "/processes/hazard_handling/migrations",
        {"instance_ids": [first], "dry_run": False, "comment": "期限缩短"},
    )
    assert moved.status_code == 200 and moved.json()[0]["migrated"]
    assert engine.instance(first)["version"] == 2 and engine.instance(second)["version"] == 1
    again = admin.post("/processes/hazard_handling/migrations", {"instance_ids": [first]})
    assert [r["code"] for r in again.json()[0]["refusal_codes"]] == ["migration_same_version"]

    for role in ("dispatcher", "dept_yjj", MEMBER):
        refused = client(role).post("/processes/hazard_handling/migrations", {})
        assert refused.status_code == 403
    bad = admin.post("/processes/hazard_handling/migrations", {"instance_ids": ["x"]})
    assert bad.status_code == 422
