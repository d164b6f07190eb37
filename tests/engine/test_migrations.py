"""The Alembic revisions build exactly the schema the models describe, and an older database
is brought forward with its cases intact: their queues, numbers and search documents."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from engine import CaseQuery
from engine.case_index import not_a_model
from engine.models import Base, OpenTask
from engine.store import MIGRATIONS_DIR
from tests.helpers import open_task, report


def include_name(name, type_, parent_names) -> bool:
    return not not_a_model(name, type_)


def _alembic(engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection_url"] = engine.db.url
    return cfg


def test_migrations_match_the_models(bare_engine):
    with bare_engine.db.sa.connect() as conn:
        # the search index's own tables and index are per database and no model's
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
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


def test_existing_cases_get_numbers_and_search_documents_across_the_search_revision(
    engine, make_engine
):
    first = report(engine)
    second = report(engine, unit="北关加油站", description="油罐区无围栏")
    cfg = _alembic(engine)

    def found(eng, q: str) -> list[int]:
        page = eng.cases(eng.actor("dispatcher"), CaseQuery(q=q))
        return [c["id"] for c in page["items"]]

    command.downgrade(cfg, "0002")
    with engine.db.sa.connect() as conn:
        assert "number" not in {c["name"] for c in inspect(conn).get_columns("instances")}
        assert "case_search" not in inspect(conn).get_table_names()
    # The revision numbers the cases (YH when no prefix is passed) ...
    command.upgrade(cfg, "head")
    assert engine.case_number(first) == f"YH-2026-{first:06d}"
    assert found(engine, f"YH-2026-{second:06d}") == [second]
    assert found(engine, "油罐") == []  # ... the documents need the processes:
    engine.upgrade()  # Engine.upgrade writes them
    assert found(engine, "油罐") == [second]
    assert found(engine, "南门化工") == [first]

    # Engine.upgrade passes the configured prefix to the revision
    command.downgrade(cfg, "0002")
    upgraded = make_engine(case_number_prefix="AQ")
    upgraded.upgrade()
    assert [upgraded.case_number(c) for c in (first, second)] == [
        f"AQ-2026-{first:06d}",
        f"AQ-2026-{second:06d}",
    ]
    assert found(upgraded, "无围栏") == [second]
    third = report(upgraded)
    assert upgraded.case_number(third) == f"AQ-2026-{third:06d}"
    assert found(upgraded, "南门化工") == [third, first]


def test_tokens_made_before_the_expiry_revision_work_for_90_days_after_it(engine):
    from datetime import UTC, datetime, timedelta

    token = engine.new_token("dispatcher", days=1)
    cfg = _alembic(engine)
    command.downgrade(cfg, "0004")  # a token as earlier releases kept it: no expiry
    command.upgrade(cfg, "head")
    assert engine.user_for_token(token) == "dispatcher"
    (listed,) = engine.tokens("dispatcher")
    until = datetime.fromisoformat(listed["expires_at"])
    assert abs(until - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
