"""Fixtures shared by every test. One switch runs the suite on SQLite and PostgreSQL.

`HAZARDFLOW_TEST_PG_URL` adds PostgreSQL: each test then gets its own schema on that server,
so tests stay independent and can run in parallel.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from engine import Engine
from engine.clock import FrozenClock
from engine.config import PASSWORD_HASH_ENV, PROJECT_ROOT, load_config
from webui import create_app

# The demo organisation is loaded in most tests, each user with an Argon2id hash of their own:
# cheap costs keep that at milliseconds. Set in the environment, so that the servers and CLI
# processes the tests start hash and check with the same costs.
os.environ.setdefault(PASSWORD_HASH_ENV, "{time_cost: 1, memory_cost: 1024, parallelism: 1}")
PG_URL = os.environ.get("HAZARDFLOW_TEST_PG_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
PROCESSES = PROJECT_ROOT / "processes"
# A Monday morning, China time: deadlines in working days are easy to reason about.
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hazardflow.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def make_engine(database_url: str, tmp_path: Path, clock: FrozenClock):
    """Build engines on the test database (several may share it, as processes would)."""
    engines: list[Engine] = []

    def make(**overrides) -> Engine:
        config = load_config(
            PROJECT_ROOT / "config.yaml",
            database_url=database_url,
            data_dir=str(tmp_path / "data"),
            **overrides,
        )
        engine = Engine(config, clock=clock)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """SQLite databases made once per test process: migrated with the demo organisation
    ("demo"), and with processes/ deployed too ("deployed"). A test's own database starts
    as a copy, as a restarted server finds its database: migrating, loading the demo and
    deploying cost most tests more than their own steps."""
    folder = tmp_path_factory.mktemp("templates")
    database = folder / "hazardflow.db"
    config = load_config(
        PROJECT_ROOT / "config.yaml",
        database_url=f"sqlite:///{database}",
        data_dir=str(folder / "data"),
    )
    made: dict[str, Path] = {}
    for stage, step in (("demo", _migrated_with_demo), ("deployed", _deployed)):
        engine = Engine(config, clock=FrozenClock(T0))
        try:
            step(engine)
        finally:
            engine.close()
        made[stage] = _copied(database, folder / f"{stage}.db")
    return made


def _copied(database: Path, copy: Path) -> Path:
    """A whole copy in one file: SQLite's backup reads through the write-ahead log."""
    source, target = sqlite3.connect(database), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


def _migrated_with_demo(engine: Engine) -> None:
    engine.upgrade()
    engine.load_demo()


def _deployed(engine: Engine) -> None:
    engine.deploy([PROCESSES])


def _on_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite:///")


def _from_template(database_url: str, templates: dict[str, Path], stage: str) -> bool:
    """Start the test's SQLite database as a copy of a template; False on PostgreSQL."""
    if not _on_sqlite(database_url):
        return False
    shutil.copyfile(templates[stage], database_url.removeprefix("sqlite:///"))
    return True


@pytest.fixture
def bare_engine(
    request: pytest.FixtureRequest,
    make_engine,
    database_url: str,
    sqlite_templates: dict[str, Path],
) -> Engine:
    """A migrated database with the demo organisation, nothing deployed; the `engine` fixture
    deploys on it (a test that asks for both gets one engine)."""
    stage = "deployed" if "engine" in request.fixturenames else "demo"
    copied = _from_template(database_url, sqlite_templates, stage)
    engine = make_engine()
    if copied:
        engine.upgrade()  # finds the copy migrated
    else:
        _migrated_with_demo(engine)
    return engine


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of processes/ for a test to change and deploy."""
    copy = tmp_path / "processes"
    shutil.copytree(PROCESSES, copy)
    return copy


@pytest.fixture
def engine(bare_engine: Engine, database_url: str) -> Engine:
    """The demo organisation with processes/ deployed."""
    if not _on_sqlite(database_url):  # else the copy had them deployed
        _deployed(bare_engine)
    return bare_engine


@pytest.fixture
def app(engine: Engine) -> Flask:
    """The web app around the test's engine, for Flask's in-process client (CSRF on)."""
    return create_app(engine, TESTING=True)
