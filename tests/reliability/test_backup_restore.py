"""The restore drill: cases in every state with photos, a claim, a fired deadline and an API
token; `hazardflow backup`, then `hazardflow restore` into a new database and data folder;
the restored installation holds the same cases, the same photo bytes, the same audit chains,
and works on. A restore over a database that is not empty is refused without --force, and a
damaged archive is reported, not trusted."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine import Engine, EngineError, parse_iso
from engine.config import PROJECT_ROOT, load_config
from tests.conftest import PG_URL
from tests.helpers import (
    MEMBER,
    RECTIFY_REPORT,
    REPORT,
    accept,
    act,
    close_invalid,
    dispatch_as_proposed,
    open_task,
    report,
    to_rectify,
)
from tests.reliability.races import Tally

HAZARDFLOW = str(Path(sys.executable).with_name("hazardflow"))
pytestmark = pytest.mark.slow


def _png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


class Installation:
    """A database and a data folder, driven by the `hazardflow` command as an operator would."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        variables = {
            **os.environ,
            "HAZARDFLOW_DATABASE_URL": self.database_url,
            "HAZARDFLOW_DATA_DIR": str(self.data_dir),
            **env,
        }
        return subprocess.run(
            [HAZARDFLOW, *args], env=variables, capture_output=True, text=True, timeout=120
        )

    def engine(self, clock) -> Engine:
        config = load_config(
            PROJECT_ROOT / "config.yaml",
            database_url=self.database_url,
            data_dir=str(self.data_dir),
        )
        return Engine(config, clock=clock)


@pytest.fixture
def new_place(database_url: str, tmp_path: Path) -> Iterator[Callable[[], Installation]]:
    """Empty places to restore into: a new SQLite file, or a new PostgreSQL database (the
    dump names its schema, so the URL keeps the schema's name); each with a new data folder."""
    made: list[str] = []

    def place() -> Installation:
        name = f"restore_{uuid.uuid4().hex[:12]}"
        folder = tmp_path / name
        if database_url.startswith("sqlite"):
            return Installation(f"sqlite:///{folder / 'hazardflow.db'}", folder / "data")
        with create_engine(PG_URL, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        return Installation(url, folder / "data")

    yield place
    if made:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _cases_in_every_state(engine: Engine, clock) -> tuple[list[int], list[str], str]:
    """Reported with photos; claimed; at verification with a rectification photo; overdue
    with a supervision task; archived; closed as invalid. The cases, the photo ids and an
    API token of the dispatcher's."""
    photos = [engine.check_photo(_png(c)) for c in ("red", "green")]
    member = engine.actor(MEMBER)
    reported = engine.start(
        "hazard_handling", {**REPORT, "photos": [p.id for p in photos]}, member, photos=photos
    )
    claimed = report(engine)
    dispatcher = engine.actor("dispatcher")
    engine.claim(open_task(engine, "dispatcher", claimed, "classify")["id"], dispatcher)
    at_verify = to_rectify(engine)
    after = engine.check_photo(_png("blue"), "rectify_photos")
    rectify = open_task(engine, "dept_yjj", at_verify, "rectify")["id"]
    engine.complete(
        rectify,
        engine.actor("dept_yjj"),
        {**RECTIFY_REPORT, "rectify_photos": [after.id]},
        "已整改",
        photos=[after],
    )
    overdue = to_rectify(engine)
    deadline = parse_iso(engine.instance(overdue)["data"]["deadline"])
    assert engine.fire_due_timers(deadline + timedelta(minutes=1)) >= 1
    archived = report(engine)
    accept(engine, archived)
    dispatch_as_proposed(engine, archived)
    act(engine, "dept_yjj", archived, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", archived, "verify", {"passed": True})
    invalid = report(engine)
    close_invalid(engine, invalid)
    token = engine.new_token("dispatcher", label="restore drill")
    cases = [reported, claimed, at_verify, overdue, archived, invalid]
    return cases, [p.id for p in [*photos, after]], token


def test_restore_drill(engine, app, database_url, tmp_path, clock, new_place):
    source = Installation(database_url, tmp_path / "data")  # the engine fixture's own
    cases, photos, token = _cases_in_every_state(engine, clock)
    archive = tmp_path / "backups" / "hazardflow.tar.gz"

    backed_up = source.run("backup", str(archive))
    assert backed_up.returncode == 0, backed_up.stderr
    # the drill's photos and the one `act` uploads for RECTIFY_REPORT's rectification
    assert f"{len(cases)} cases" in backed_up.stdout
    assert f"{len(photos) + 1} photos" in backed_up.stdout

    target = new_place()
    restored = target.run("restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "audit verify: ok" in restored.stdout

    copy = target.engine(clock)
    try:
        dispatcher = engine.actor("dispatcher")
        for case in cases:  # data, status, open tasks and claims, timers, the whole history
            assert copy.instance(case) == engine.instance(case), f"case {case}"
        for photo in photos:
            original, _ = engine.photo(photo, dispatcher)
            again, content_type = copy.photo(photo, copy.actor("dispatcher"))
            assert again.read_bytes() == original.read_bytes() and content_type == "image/png"
        before, after = engine.verify_audit(), copy.verify_audit()
        assert after.ok, after.problems
        assert (after.events, after.chains) == (before.events, before.chains)
        assert copy.user_for_token(token) == "dispatcher"
        secret = "secret_key"  # sessions and the public lookup codes stay valid
        assert (target.data_dir / secret).read_bytes() == (source.data_dir / secret).read_bytes()

        # the restored installation works on: the case at verification is archived there
        at_verify = cases[2]
        act(copy, "dispatcher", at_verify, "verify", {"passed": True})
        assert copy.instance(at_verify)["status"] == "completed"

        # now it is not empty: a second restore is refused and changes nothing ...
        again = target.run("restore", str(archive))
        assert again.returncode == 1 and "not empty" in again.stderr, again.stderr
        assert "--force" in again.stderr
        assert copy.instance(at_verify)["status"] == "completed"
        # ... unless forced: then it is as backed up again
        forced = copy.restore(archive, force=True)
        assert forced["problems"] == [] and forced["backup"]["counts"]["cases"] == len(cases)
        assert copy.instance(at_verify) == engine.instance(at_verify)
    finally:
        copy.close()
    Tally(f"backup-restore-{'sqlite' if engine.is_sqlite else 'postgresql'}").write(
        cases=len(cases),
        photos=len(photos),
        audit_events=before.events,
        audit_chains=before.chains,
        restores=2,
        refused_over_data=1,
    )


def test_a_damaged_archive_is_reported(engine, tmp_path, clock, new_place):
    """A photo's bytes changed inside the archive: the restore says which."""
    photo = engine.check_photo(_png("red"))
    member = engine.actor(MEMBER)
    engine.start("hazard_handling", {**REPORT, "photos": [photo.id]}, member, photos=[photo])
    archive, damaged = tmp_path / "good.tar.gz", tmp_path / "damaged.tar.gz"
    engine.backup(archive)
    with tarfile.open(archive, "r:gz") as good, tarfile.open(damaged, "w:gz") as bad:
        for entry in good.getmembers():
            content = good.extractfile(entry).read()  # type: ignore[union-attr]
            if entry.name.endswith(photo.id):
                content = _png("black")
                entry.size = len(content)
            bad.addfile(entry, io.BytesIO(content))

    copy = new_place().engine(clock)
    try:
        restored = copy.restore(damaged)
    finally:
        copy.close()
    assert restored["problems"] == [f"photo {photo.id}: its file's bytes changed"]


def test_postgresql_without_pg_dump_says_what_to_do(engine, tmp_path, monkeypatch):
    if engine.is_sqlite:
        pytest.skip("SQLite needs no tool of its own")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EngineError) as refused:
        engine.backup(tmp_path / "b.tar.gz")
    assert "pg_dump was not found" in str(refused.value)
    assert "postgresql-client" in str(refused.value)
    assert list(tmp_path.glob("b.tar.gz*")) == []
