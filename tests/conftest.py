"""Fixtures shared by every test. One switch runs the suite on SQLite and PostgreSQL.

`HAZARDFLOW_TEST_PG_URL` adds PostgreSQL: each test then gets its own database on that server,
so tests stay independent and can run in parallel. A test's database starts as a copy of
what its engine fixtures would build (tests/databases.py).
"""

from __future__ import annotations

import os
import shutil
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
from tests.databases import PostgresTemplates, SqliteTemplates
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


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"), _prepare)


@pytest.fixture(scope="session")
def pg_templates() -> Iterator[PostgresTemplates | None]:
    templates = PostgresTemplates.on(PG_URL, _prepare) if PG_URL else None
    yield templates
    if templates:
        templates.close()


def _prepare(database_url: str, stage: str) -> None:
    """Build `stage` (tests/databases.py) on the database the stage before left."""
    config = load_config(
        PROJECT_ROOT / "config.yaml",
        database_url=database_url,
        data_dir=os.devnull,  # neither step keeps files
    )
    engine = Engine(config, clock=FrozenClock(T0))
    try:
        if stage == "demo":
            engine.upgrade()
            engine.load_demo()
        else:
            engine.deploy([PROCESSES])
    finally:
        engine.close()


STARTED_AS = pytest.StashKey[str | None]()  # the template a test's database is a copy of


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None,
) -> Iterator[str]:
    yield from own_database(request, tmp_path, sqlite_templates, pg_templates)


def own_database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None = None,
) -> Iterator[str]:
    """The test's own database: a copy of what its engine fixtures would build, or empty."""
    wants = request.fixturenames
    stage = "deployed" if "engine" in wants else "demo" if "bare_engine" in wants else None
    if request.param == "sqlite":
        request.node.stash[STARTED_AS] = stage
        yield sqlite_templates.database(tmp_path, stage)
    elif pg_templates:
        request.node.stash[STARTED_AS] = stage
        url = pg_templates.database(stage)
        yield url
        pg_templates.drop(url)
    else:  # a role that may not create databases: a schema of its own, built by the test
        request.node.stash[STARTED_AS] = None
        yield from _own_schema()


def _own_schema() -> Iterator[str]:
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


@pytest.fixture
def bare_engine(request: pytest.FixtureRequest, make_engine) -> Engine:
    """A migrated database with the demo organisation, nothing deployed; the `engine` fixture
    deploys on it (a test that asks for both gets one engine)."""
    engine = make_engine()
    engine.upgrade()  # a copy: finds it migrated
    if request.node.stash.get(STARTED_AS, None) is None:
        engine.load_demo()
    return engine


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of processes/ for a test to change and deploy."""
    copy = tmp_path / "processes"
    shutil.copytree(PROCESSES, copy)
    return copy


@pytest.fixture
def engine(request: pytest.FixtureRequest, bare_engine: Engine) -> Engine:
    """The demo organisation with processes/ deployed."""
    if request.node.stash.get(STARTED_AS, None) != "deployed":
        bare_engine.deploy([PROCESSES])
    return bare_engine


@pytest.fixture
def app(engine: Engine) -> Flask:
    """The web app around the test's engine, for Flask's in-process client (CSRF on)."""
    return create_app(engine, TESTING=True)
