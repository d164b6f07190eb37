"""Process versions an administrator manages: a deployment keeps who, when and why; uploaded
files (loose or zipped) deploy all or nothing; an earlier deployment deployed again is a roll
back (new versions, on which new cases start; running ones stay where they are); a version's
files go back to a folder exactly, so deploying the folder again changes nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from engine import DeployRefused
from engine.models import AuditEvent
from tests.conftest import PROCESSES
from tests.helpers import accept, report

DMN = PROCESSES / "dispatch.dmn"


def uploads(folder: Path = PROCESSES) -> list[tuple[str, bytes]]:
    return [
        (p.relative_to(folder).as_posix(), p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]


def shorter_deadline() -> tuple[str, bytes]:
    changed = DMN.read_text(encoding="utf-8").replace("<text>10</text>", "<text>7</text>")
    return "dispatch.dmn", changed.encode()


def deadline_of_a_new_case(engine) -> int:
    case = report(engine)
    accept(engine, case)
    return engine.instance(case)["data"]["deadline_days"]


def test_uploaded_files_on_top_of_a_deployment_make_a_version_with_its_comment(engine):
    admin = engine.actor("admin")
    first = engine.deployments()[0]
    result = engine.deploy_files([shorter_deadline()], admin, "期限缩短为7天", base=first["id"])
    assert result.created and result.versions["hazard_handling"] == 2
    newest = engine.deployments()[0]
    assert newest["comment"] == "期限缩短为7天" and newest["deployed_by"] == "admin"
    assert newest["files"] == first["files"]  # the others came from the base
    assert [v["current"] for d in engine.deployments() for v in d["versions"]] == [True, False]
    assert deadline_of_a_new_case(engine) == 7
    with engine.db.reading() as session:
        event = (
            session.query(AuditEvent).filter_by(chain="system").order_by(AuditEvent.id).all()[-1]
        )
    assert (event.action, event.actor, event.comment) == ("deploy", "admin", "期限缩短为7天")
    assert event.changes["versions"] == {"hazard_handling": 2}


def test_a_zip_of_a_folder_deploys_like_the_folder(engine, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in uploads():
            archive.writestr(f"processes/{name}", data)
        archive.writestr("__MACOSX/._hazard.bpmn", b"\0")
    again = engine.deploy_files([("processes.zip", buffer.getvalue())], engine.actor("admin"))
    assert not again.created  # the very files deployed now
    assert engine.deployment_zip(again.deployment_id)  # and they come back as a zip
    names = zipfile.ZipFile(io.BytesIO(engine.deployment_zip(again.deployment_id))).namelist()
    assert sorted(names) == sorted(name for name, _ in uploads() if name != "README.md")


def test_a_broken_upload_deploys_nothing_and_names_file_and_element(engine):
    before = engine.deployments()
    broken = DMN.read_text(encoding="utf-8").replace(
        "<text>10</text>", "<text>__import__('os').system('id')</text>", 1
    )
    upload = [("dispatch.dmn", broken.encode()), ("notes.txt", b"x"), ("../evil.bpmn", b"")]
    problems = engine.check_files(upload, base=before[0]["id"])
    assert [p["file"] for p in problems] == ["../evil.bpmn"]  # names are checked first
    problems = engine.check_files(upload[:2], base=before[0]["id"])
    assert [(p["file"], p["severity"]) for p in problems] == [("dispatch.dmn", "error")]
    assert problems[0]["element"] and "__import__" in problems[0]["message"]
    with pytest.raises(DeployRefused):
        engine.deploy_files(upload[:2], engine.actor("admin"), base=before[0]["id"])
    assert engine.deployments() == before
    fine = engine.check_files([shorter_deadline(), ("notes.txt", b"x")], base=before[0]["id"])
    assert [(p["file"], p["severity"]) for p in fine] == [("notes.txt", "warning")]


def test_rolling_back_deploys_the_earlier_files_again_as_new_versions(engine):
    admin = engine.actor("admin")
    original = engine.deployments()[0]["id"]
    engine.deploy_files([shorter_deadline()], admin, base=original)
    before_rollback = report(engine)
    back = engine.redeploy(original, admin, "回退")
    assert back.created and back.same_files_as == original
    assert back.versions == {"hazard_handling": 3}
    assert deadline_of_a_new_case(engine) == 10
    assert engine.instance(before_rollback)["version"] == 2  # running cases stay
    assert not engine.redeploy(original, admin).created  # in force already: nothing to do
    assert not engine.deploy([PROCESSES]).created  # the same files as the folder


def test_export_writes_a_version_back_so_that_deploying_the_folder_changes_nothing(
    engine, tmp_path
):
    admin = engine.actor("admin")
    engine.deploy_files([shorter_deadline()], admin, base=engine.deployments()[0]["id"])
    folder = tmp_path / "exported"
    (folder / "forms").mkdir(parents=True)
    (folder / "forms" / "stray.json").write_text("{}")
    exported, strays = engine.export(folder, engine.deployment_of("hazard_handling", 1))
    assert exported == 1 and strays == ["forms/stray.json"]
    (folder / "forms" / "stray.json").unlink()
    assert (folder / "dispatch.dmn").read_bytes() == DMN.read_bytes()
    again = engine.deploy([folder])  # version 1's files: a roll back to them
    assert again.created and again.same_files_as == 1
    exported, _ = engine.export(folder)  # the newest deployment
    assert exported == again.deployment_id and not engine.deploy([folder]).created
