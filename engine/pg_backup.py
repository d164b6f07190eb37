"""PostgreSQL's own tools for a backup: `pg_dump --format=custom` and `pg_restore`, run with
the connection of the database URL (the password in the environment, never on the command
line). Used by engine/backup.py; docs/reliability.md says how to run them by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from .errors import EngineError

GUIDANCE = (
    "install PostgreSQL's client programs (Debian: postgresql-client) of the server's major "
    "version or newer, or back up by hand with `pg_dump --format=custom` and the photo "
    "folder (docs/reliability.md, 'Backup and restore')"
)


class BackupRefused(EngineError):
    """A backup or restore that cannot be done, and why (nothing was changed)."""

    code, status = "backup_refused", 400


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(f"{name} was not found on PATH: {GUIDANCE}")
    return found


def schema_of(url: str) -> str | None:
    """The schema a URL's `options=-csearch_path=...` names (one schema per installation,
    as the tests use), else None: the whole database is HazardFlow's."""
    options = make_url(url).query.get("options")
    text = options if isinstance(options, str) else " ".join(options or ())
    for part in text.split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0].strip() or None
    return None


def _connection(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq arguments and environment for the URL's server, user and database."""
    parsed = make_url(url)
    args = ["--dbname", parsed.database or "postgres"]
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    options = parsed.query.get("options")
    if options:
        env["PGOPTIONS"] = options if isinstance(options, str) else " ".join(options)
    sslmode = parsed.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        name = Path(command[0]).name
        raise BackupRefused(f"{name} failed (exit {done.returncode}): {done.stderr.strip()}")


def dump(url: str, into: Path, snapshot: str | None = None) -> None:
    """The database (or the URL's schema) in pg_dump's custom format; `snapshot`: an
    exported snapshot (pg_export_snapshot) to dump exactly what that transaction sees."""
    args, env = _connection(url)
    command = [_program("pg_dump"), "--format=custom", "--file", str(into), *args]
    schema = schema_of(url)
    if schema:
        command += ["--schema", schema]
    if snapshot:
        command += ["--snapshot", snapshot]
    _run(command, env)


def restore(url: str, dump_file: Path, clean: bool) -> None:
    """A dump of `dump` into the URL's database in one transaction (all or nothing);
    `clean`: what the dump holds is dropped first."""
    args, env = _connection(url)
    command = [_program("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--single-transaction", *args]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump_file)], env)
