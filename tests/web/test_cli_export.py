"""`hazardflow export` as an operator runs it: a deployed version's files back in a folder,
exactly, so that `hazardflow deploy` of that folder changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import PROCESSES
from tests.engine.test_deployment_versions import shorter_deadline
from tests.web.test_cli import run  # noqa: F401 - the same command runner

pytestmark = pytest.mark.slow


def test_export_a_version_and_deploy_the_folder_unchanged(run, engine, tmp_path):  # noqa: F811
    engine.deploy_files([shorter_deadline()], engine.actor("admin"), "七天", base=1)
    folder = tmp_path / "git" / "processes"
    done = run("export", str(folder), "--version", "hazard_handling:1")
    assert done.returncode == 0, done.stderr
    assert "deployment 1" in done.stdout
    assert (folder / "dispatch.dmn").read_bytes() == (PROCESSES / "dispatch.dmn").read_bytes()
    rolled = run("deploy", str(folder), "--comment", "回到第一版")
    assert rolled.returncode == 0 and "the files of 1" in rolled.stdout
    assert "hazard_handling: version 3" in rolled.stdout
    assert engine.deployments()[0]["comment"] == "回到第一版"
    newest = run("export", str(folder))
    assert newest.returncode == 0 and "deployment 3" in newest.stdout
    assert "unchanged" in run("deploy", str(folder)).stdout
    missing = run("export", str(folder), "--version", "hazard_handling:9")
    assert missing.returncode == 1 and "no version 9" in missing.stderr
    usage = run("export", str(folder), "--version", "nine")
    assert usage.returncode == 2
