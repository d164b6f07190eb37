"""The `hazardflow` command as an operator runs it: real process, real database, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import PROCESSES
from tests.helpers import close_invalid

HAZARDFLOW = str(Path(sys.executable).with_name("hazardflow"))
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

pytestmark = pytest.mark.slow


@pytest.fixture
def run(database_url, tmp_path):
    env = {"HAZARDFLOW_DATABASE_URL": database_url, "HAZARDFLOW_DATA_DIR": str(tmp_path / "d")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        import os

        return subprocess.run(
            [HAZARDFLOW, *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_setup_deploy_users_grids_audit(run, tmp_path):
    assert run("db", "upgrade").returncode == 0
    first = run("setup")
    assert first.returncode == 0, first.stderr
    assert "hazard_handling version 1" in first.stdout and "hazard2026" in first.stdout
    again = run("setup")  # twice reuses what exists
    assert again.returncode == 0 and "loaded the demo" not in again.stdout
    assert "unchanged" in run("deploy", str(PROCESSES)).stdout

    grids = json.loads(run("grids", "list", "--json").stdout)
    village = next(g for g in grids if g["code"] == "ap-d1-t1-v1")
    assert village["parent"] == "ap-d1-t1" and village["leader"] == "leader_ap_d1_t1_v1"

    added = run(
        "users",
        "add",
        "inspector",
        "--role",
        "enterprise",
        "--role",
        "township",
        "--department",
        "ajb",
        "--grid",
        "ap-d2-t1",
        "--password",
        "pw",
        "--email",
        "inspector@example.org",
    )
    assert added.returncode == 0, added.stderr
    users = {u["name"]: u for u in json.loads(run("users", "list", "--json").stdout)}
    assert users["inspector"]["roles"] == ["enterprise", "township"]
    assert users["inspector"]["department"] == "ajb"
    assert users["inspector"]["grids"] == ["ap-d2-t1"]
    assert users["inspector"]["email"] == "inspector@example.org"
    assert users["dispatcher"]["email"] is None
    assert "<inspector@example.org>" in run("users", "list").stdout
    assert run("users", "add", "typo", "--role", "x", "--email", "no-at-sign").returncode == 1
    assert run("users", "add", "inspector", "--role", "x").returncode == 1
    assert run("users", "add", "ghost", "--role", "x", "--grid", "nowhere").returncode == 1
    token = run("users", "token", "dispatcher")
    assert token.returncode == 0 and token.stdout.startswith("hf_")
    assert run("users", "token", "dispatcher", "--days", "5", "--label", "ci").returncode == 0
    assert run("users", "token", "dispatcher", "--days", "0").returncode == 1
    listed = json.loads(run("users", "tokens", "dispatcher", "--json").stdout)
    assert [t["label"] for t in listed] == ["ci", None]
    assert "ci" in run("users", "tokens", "dispatcher").stdout
    assert run("users", "revoke-token", "dispatcher", str(listed[0]["id"])).returncode == 0
    assert run("users", "revoke-token", "dispatcher", str(listed[0]["id"])).returncode == 1
    assert len(json.loads(run("users", "tokens", "dispatcher", "--json").stdout)) == 1
    assert run("users", "deactivate", "inspector").returncode == 0
    assert run("users", "deactivate", "ghost").returncode == 1
    users = {u["name"]: u for u in json.loads(run("users", "list", "--json").stdout)}
    assert not users["inspector"]["active"] and users["dispatcher"]["active"]

    assert run("audit", "verify").returncode == 0
    assert run("users", "add").returncode == 2  # usage


def test_validate_and_refused_deploy_name_file_and_element(run, tmp_path, database_url):
    assert run("setup").returncode == 0
    ok = run(
        "validate",
        str(PROCESSES / "hazard.bpmn"),
        str(PROCESSES / "dispatch.dmn"),
        str(PROCESSES / "time_limits.dmn"),
        *map(str, (PROCESSES / "forms").glob("*.json")),
    )
    assert ok.returncode == 0, ok.stderr
    evil = tmp_path / "evil"
    shutil.copytree(FIXTURES / "self_report", evil)
    bad = evil / "self_report.bpmn"
    source = bad.read_text(encoding="utf-8")
    bad.write_text(source.replace('decision == "confirm"', "open('/etc/passwd')"), "utf-8")
    bad.rename(evil / "evil.bpmn")
    refused = run("deploy", str(evil))
    assert refused.returncode == 1
    assert "evil.bpmn" in refused.stderr and "flow_confirmed" in refused.stderr
    assert "open" in refused.stderr
    second = run("deploy", str(FIXTURES / "self_report"))
    assert second.returncode == 0 and "enterprise_self_report: version 1" in second.stdout


def test_audit_verify_fails_after_tampering(run, engine, database_url):
    from tests.helpers import report

    case = report(engine)
    close_invalid(engine, case, "无效")
    assert run("audit", "verify").returncode == 0
    with engine.db.transaction() as session:
        session.execute(text("UPDATE audit_events SET comment = 'rewritten' WHERE seq = 2"))
    failed = run("audit", "verify")
    assert failed.returncode == 1 and "changed" in failed.stderr


def test_timers_list_and_run_due(run, engine):
    from tests.helpers import to_rectify

    case = to_rectify(engine)
    listed = run("timers", "list")
    assert listed.returncode == 0 and f"case {case}" in listed.stdout
    fired = run("timers", "run-due", "--now", "2099-01-01T00:00:00+08:00")
    assert fired.returncode == 0 and "fired 2 timer(s)" in fired.stdout
    assert run("timers", "run-due", "--now", "not-a-time").returncode == 2


def test_migrate_previews_then_moves_with_who_and_why(run, engine, folder):
    from tests.helpers import to_rectify

    case = to_rectify(engine)
    hazard = folder / "hazard.bpmn"
    hazard.write_text(hazard.read_text().replace('name="整改">', 'name="整改落实">', 1))
    assert run("deploy", str(folder)).returncode == 0
    preview = run("migrate", "hazard_handling")
    assert preview.returncode == 0, preview.stderr
    assert f"case {case}: version 1 -> 2: can move" in preview.stdout
    assert "rectify (整改)" in preview.stdout
    refused = run("migrate", "hazard_handling", "--apply")
    assert refused.returncode == 1 and "--by" in refused.stderr
    moved = run("migrate", "hazard_handling", "--apply", "--by", "admin", "--comment", "新版")
    assert moved.returncode == 0 and f"case {case}: version 1 -> 2: moved" in moved.stdout
    assert engine.instance(case)["version"] == 2
    assert "no running case" in run("migrate", "hazard_handling").stdout


def test_import_org_is_a_dry_run_until_confirmed(run, engine, tmp_path):
    sheet = tmp_path / "departments.csv"
    sheet.write_text("编码,名称\nsjj,市场监督管理局\nbad!,坏编码\n", encoding="utf-8")
    dry = run("import-org", str(sheet))
    assert dry.returncode == 0, dry.stderr
    assert "rejected: departments row 3 (bad!): code:" in dry.stdout
    assert "dry run, nothing kept: 1 added, 0 updated, 1 rejected" in dry.stdout
    done = run("import-org", str(sheet), "--confirm")
    assert "imported: 1 added" in done.stdout
    assert run("import-org", str(tmp_path)).returncode == 2  # a folder: usage error
