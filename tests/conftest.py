"""Fixtures shared by every test. One switch runs the suite on SQLite and PostgreSQL.

`HAZARDFLOW_TEST_PG_URL` adds PostgreSQL: each test then gets its own schema on that server,
so tests stay independent and can run in parallel.
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


@pytest.fixture
def bare_engine(make_engine) -> Engine:
    """A migrated database with the demo organisation, nothing deployed."""
    engine = make_engine()
    engine.upgrade()
    engine.load_demo()
    return engine


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of processes/ for a test to change and deploy."""
    copy = tmp_path / "processes"
    shutil.copytree(PROCESSES, copy)
    return copy


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """The demo organisation with processes/ deployed."""
    bare_engine.deploy([PROCESSES])
    return bare_engine


@pytest.fixture
def app(engine: Engine) -> Flask:
    """The web app around the test's engine, for Flask's in-process client (CSRF on)."""
    return create_app(engine, TESTING=True)
