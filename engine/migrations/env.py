"""Alembic environment: the connection comes from engine.store.Database.upgrade()."""

from alembic import context
from sqlalchemy import create_engine

from engine.case_index import not_a_model
from engine.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """Leave out of autogenerate what no model describes: the search index's own tables
    (SQLite FTS5) and index (PostgreSQL), made by revision 0003."""
    return not not_a_model(name, type_)


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("connection_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or pass a connection")
    with create_engine(url).begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
