"""The Alembic revisions build exactly the schema the models describe, and an older database
is brought forward with its cases intact."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import select

from engine.models import Base, OpenTask
from engine.store import MIGRATIONS_DIR
from tests.helpers import open_task, report


def _alembic(engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection_url"] = engine.db.url
    return cfg


def test_migrations_match_the_models(bare_engine):
    with bare_engine.db.sa.connect() as conn:
        context = MigrationContext.configure(conn)
        drift = compare_metadata(context, Base.metadata)
    assert drift == [], f"models and migrations differ; add a revision: {drift}"


def test_open_tasks_keep_their_queue_across_the_queue_revision(engine):
    case = report(engine)
    task = open_task(engine, "dispatcher", case, "classify")
    cfg = _alembic(engine)
    command.downgrade(cfg, "0001")
    command.upgrade(cfg, "head")
    with engine.db.reading() as session:
        queue = session.scalar(select(OpenTask.queue).where(OpenTask.id == task["id"]))
    assert queue == task["title"]
