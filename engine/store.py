"""Database connection and transactions: SQLite (WAL) embedded, PostgreSQL via psycopg 3."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # Commands take the write lock at BEGIN: a deferred transaction that reads and then writes
    # fails with "database is locked" instead of waiting for the other writer. Reads stay deferred.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_sql_engine(url: str) -> SAEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        sa = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(sa, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling is switched off so that ours is the only one.
        event.listen(sa, "connect", lambda conn, _rec: setattr(conn, "isolation_level", None))
        event.listen(sa, "begin", _sqlite_begin)
        return sa
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """Owns the SQLAlchemy engine and hands out one session per command."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sa = make_sql_engine(url)
        self._sessions = sessionmaker(self.sa, expire_on_commit=False)
        writer = self.sa.execution_options(sqlite_immediate=True)
        self._write_sessions = sessionmaker(writer, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back everything on any error."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def upgrade(self, number_prefix: str | None = None) -> None:
        """Bring the schema to the newest Alembic revision (`number_prefix`: for the case
        numbers revision 0003 gives existing cases)."""
        from alembic import command

        cfg = _alembic_config(self.url)
        if number_prefix:
            cfg.attributes["case_number_prefix"] = number_prefix
        with self.sa.connect() as conn, _foreign_keys_checked_at_the_end(conn):
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.sa.dispose()


@contextmanager
def _foreign_keys_checked_at_the_end(conn: Connection) -> Iterator[None]:
    """One transaction for the migrations. SQLite changes a table's constraints by copying
    it, which its foreign keys would refuse: as SQLite's manual says, they are off meanwhile
    (switched outside any transaction) and every reference is checked before the commit."""
    sqlite = conn.dialect.name == "sqlite"
    raw = conn.connection.driver_connection if sqlite else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with conn.begin():
            yield
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"a migration broke references: {broken[:5]}")
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


def _alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection_url"] = url
    return cfg


def new_revision(message: str) -> Path:
    """A new Alembic revision with what `models.py` changed since the newest one, compared
    against a scratch database at the newest revision (no real database is touched); named
    like the others (0003_...). Read it before committing: autogenerate misses some changes."""
    from alembic import command

    versions = MIGRATIONS_DIR / "versions"
    number = 1 + max((int(p.name[:4]) for p in versions.glob("[0-9]*.py")), default=0)
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/at-head.db")
        try:
            db.upgrade()
            cfg = _alembic_config(db.url)
            cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
            with db.sa.begin() as conn:
                cfg.attributes["connection"] = conn
                script = command.revision(
                    cfg, message=message, autogenerate=True, rev_id=f"{number:04d}"
                )
        finally:
            db.dispose()
    written = script[0] if isinstance(script, list) else script
    if written is None:
        raise RuntimeError("alembic wrote no revision")
    return Path(written.path)
