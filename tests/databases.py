"""Each test's own database, as a copy of one made once per test process.

Migrating, loading the demo organisation and deploying processes/ cost most tests more than
their own steps (about 0.5 s on SQLite and 0.9 s on PostgreSQL, against 0.1 s for a copy).
Each test process makes them once: after the migration and the demo ("demo"), and after the
deployment too ("deployed"). A test's SQLite file is a copy of one; on PostgreSQL a test gets
a database of its own, created from one (CREATE DATABASE ... TEMPLATE copies it on the
server). The test then finds its database as a restarted server finds its own.

On PostgreSQL the tables live in the schema PG_SCHEMA of each database, named in the URL as an
installation would name it (a backup's dump names it). A server role that may not create
databases gets an empty schema of its own per test in the given database instead, built by
the test's fixtures as before.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

STAGES = ("demo", "deployed")  # each one built on the one before
PG_SCHEMA = "hazardflow"
Prepare = Callable[[str, str], None]  # (database URL, stage): build that stage on it


def copy_sqlite(source: Path, target: Path) -> None:
    """A whole copy in one file: SQLite's backup reads through the write-ahead log."""
    reading, writing = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        reading.close()
        writing.close()


class SqliteTemplates:
    def __init__(self, folder: Path, prepare: Prepare) -> None:
        built = folder / "hazardflow.db"
        self.files: dict[str, Path] = {}
        for stage in STAGES:
            prepare(f"sqlite:///{built}", stage)
            self.files[stage] = folder / f"{stage}.db"
            copy_sqlite(built, self.files[stage])

    def database(self, folder: Path, stage: str | None) -> str:
        path = folder / "hazardflow.db"
        if stage:
            copy_sqlite(self.files[stage], path)
        return f"sqlite:///{path}"


class PostgresTemplates:
    """Template databases on the server of `server_url`, dropped by close()."""

    def __init__(self, server_url: str, prepare: Prepare) -> None:
        self.server = make_url(server_url)
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.prefix = f"hf_{uuid.uuid4().hex[:10]}"
        self.made: list[str] = []
        self.names: dict[str, str] = {}
        empty = self._create(f"{self.prefix}_empty", None)
        schema = create_engine(self.url(empty))
        with schema.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        schema.dispose()
        self.names["empty"] = previous = empty
        for stage in STAGES:
            name = self._create(f"{self.prefix}_{stage}", previous)
            prepare(self.url(name, PG_SCHEMA), stage)  # its engine closed: no one connected
            self.names[stage] = previous = name

    @classmethod
    def on(cls, server_url: str, prepare: Prepare) -> PostgresTemplates | None:
        """None when the server's role may not create databases."""
        try:
            return cls(server_url, prepare)
        except DBAPIError as exc:
            if "permission denied" in str(exc).lower():
                return None
            raise

    def url(self, database: str, schema: str | None = None) -> str:
        url = self.server.set(database=database)
        if schema:
            url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def database(self, stage: str | None) -> str:
        name = self._create(
            f"{self.prefix}_t_{uuid.uuid4().hex[:12]}", self.names[stage or "empty"]
        )
        return self.url(name, PG_SCHEMA)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.made.remove(name)

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.made):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()

    def _create(self, name: str, template: str | None) -> str:
        copied = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copied}'))
        self.made.append(name)
        return name
