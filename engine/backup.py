"""One archive of an installation (`hazardflow backup FILE`) and its restore (`hazardflow
restore FILE`): the database and the data folder (photos, the installation's secret).

The archive is a gzipped tar: the database (`database.sqlite3`, a copy by SQLite's online
backup API, or `database.pgdump`, pg_dump's custom format read from one snapshot with the
counts), `data/…`, the data folder, and `hazardflow-backup.json`, what it holds (written
last, when the files are counted). The database is copied first and the files after: a
photo's file is written before its row commits and never removed once it has, so every photo
the copied database names is in the folder by then, while the server keeps running. A
restore refuses a target that is not empty unless forced, and the facade checks what it
restored (counts, photos' bytes, audit chains).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

from . import pg_backup
from .attachments import photo_path
from .models import Attachment, AuditEvent, Instance, User
from .pg_backup import BackupRefused
from .records import BackupRecord
from .store import Database

MANIFEST = "hazardflow-backup.json"
FORMAT = "hazardflow-backup/1"
DATA = "data"
# What a backup counts, to be found again after a restore: name -> model
COUNTED: dict[str, Any] = {
    "cases": Instance,
    "audit_events": AuditEvent,
    "photos": Attachment,
    "users": User,
}


def _sqlite_path(db: Database) -> Path:
    path = make_url(db.url).database
    if not path or path == ":memory:":
        raise BackupRefused("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _counts(conn: Connection) -> dict[str, int]:
    return {
        name: int(conn.execute(select(func.count()).select_from(model)).scalar_one())
        for name, model in COUNTED.items()
    }


def _revision(conn: Connection) -> str | None:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _data_files(data_dir: Path, skip: set[Path]) -> Iterator[Path]:
    """Every file of the data folder but half-written photos (`.part`) and the database
    itself (should it live in the folder)."""
    if not data_dir.is_dir():
        return
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and path.suffix != ".part" and path.resolve() not in skip:
            yield path


def backup(db: Database, data_dir: Path, archive: Path, now: datetime) -> BackupRecord:
    """Write the archive (to a `.part` file renamed when complete and synced); what it holds."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".part")
    with tempfile.TemporaryDirectory() as scratch:
        if db.is_sqlite:
            source = _sqlite_path(db)
            database = Path(scratch) / "database.sqlite3"
            _sqlite_copy(source, database)
            copy = Database(f"sqlite:///{database}")
            try:
                with copy.sa.connect() as conn:
                    counts, revision = _counts(conn), _revision(conn)
            finally:
                copy.dispose()
            kind = "sqlite"
            skip = {source.resolve(), *(Path(f"{source}{s}").resolve() for s in ("-wal", "-shm"))}
        else:
            database = Path(scratch) / "database.pgdump"
            with db.sa.connect() as conn:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():  # the counts and the dump see one snapshot
                    snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                    counts, revision = _counts(conn), _revision(conn)
                    pg_backup.dump(db.url, database, snapshot)
            kind, skip = "postgresql", set()
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(database, arcname=database.name, recursive=False)
            files = 0
            for path in _data_files(data_dir, skip):
                try:
                    tar.add(path, arcname=f"{DATA}/{path.relative_to(data_dir).as_posix()}")
                except FileNotFoundError:  # a refused submission's photo: never committed
                    continue
                files += 1
            record: BackupRecord = {
                "format": FORMAT,
                "created_at": now.isoformat(),
                "database": kind,
                "revision": revision,
                "counts": counts,
                "files": files,
            }
            _add_bytes(tar, MANIFEST, json.dumps(record, indent=2).encode())
    with open(partial, "rb+") as out:
        os.fsync(out.fileno())
    os.replace(partial, archive)
    return record


def _sqlite_copy(source: Path, into: Path) -> None:
    """SQLite's online backup: a consistent copy while others keep writing."""
    if not source.exists():
        raise BackupRefused(f"no database at {source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(into)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(content))


def read_manifest(archive: Path) -> BackupRecord:
    """What an archive says it holds; BackupRefused if it is not one of ours."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            manifest = json.loads(member.read()) if member else None
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupRefused(f"{archive} is not a HazardFlow backup: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{archive} is not a HazardFlow backup ({FORMAT})")
    return manifest  # type: ignore[return-value]


def _target_contents(db: Database, data_dir: Path) -> tuple[int, int]:
    """What a restore would overwrite: the tables in the database, the files in the folder."""
    if not db.is_sqlite:
        with db.sa.connect() as conn:
            query = (
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
            tables = int(conn.execute(text(query)).scalar_one())
    elif _sqlite_path(db).exists():
        raw = sqlite3.connect(_sqlite_path(db))
        try:
            query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            tables = int(raw.execute(query).fetchone()[0])
        finally:
            raw.close()
    else:
        tables = 0
    return tables, sum(1 for _ in _data_files(data_dir, set()))


def _members(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, PurePosixPath]]:
    """The archive's files under data/, each path checked to stay inside the folder."""
    for member in tar.getmembers():
        name = PurePosixPath(member.name)
        if name.parts[:1] != (DATA,) or len(name.parts) < 2:
            continue
        inside = PurePosixPath(*name.parts[1:])
        if not member.isfile() or inside.is_absolute() or ".." in inside.parts:
            raise BackupRefused(f"the archive holds an unsafe entry: {member.name}")
        yield member, inside


def restore(db: Database, data_dir: Path, archive: Path, force: bool) -> BackupRecord:
    """Put the archive's database and data folder in place; the manifest of what it held.
    A target with tables or files is refused unless `force` (then they are replaced)."""
    manifest = read_manifest(archive)
    kind = "sqlite" if db.is_sqlite else "postgresql"
    if manifest["database"] != kind:
        raise BackupRefused(
            f"{archive} holds a {manifest['database']} database and this installation uses"
            f" {kind}: restore it into {manifest['database']}"
        )
    tables, files = _target_contents(db, data_dir)
    if (tables or files) and not force:
        found = [f"the database has {tables} tables"] if tables else []
        found += [f"the data folder {data_dir} has {files} files"] if files else []
        raise BackupRefused(
            "the target is not empty (" + "; ".join(found) + "): restore into a new database"
            " and data folder, or give --force to replace what is there"
        )
    db.dispose()  # no pooled connection may hold the old database
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(archive, "r:gz") as tar:
        name = "database.sqlite3" if db.is_sqlite else "database.pgdump"
        try:
            packed = tar.extractfile(name)
        except KeyError:
            packed = None
        if packed is None:
            raise BackupRefused(f"{archive} holds no {name}") from None
        database = Path(scratch) / name
        with open(database, "wb") as out:
            shutil.copyfileobj(packed, out)
        if db.is_sqlite:
            target = _sqlite_path(db)
            target.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(database, target)
        else:
            pg_backup.restore(db.url, database, clean=bool(tables))
        if force:
            shutil.rmtree(data_dir / "photos", ignore_errors=True)
        for member, inside in _members(tar):
            path = data_dir.joinpath(*inside.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None  # a regular file
            partial = path.with_name(path.name + ".part")
            with open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
            os.chmod(partial, member.mode & 0o777)
            os.replace(partial, path)
    db.dispose()
    return manifest


def check_restored(session: Session, photos: Path, manifest: BackupRecord) -> list[str]:
    """What the restored installation lacks against what its backup held: counts that
    differ, photos whose file is missing or whose bytes are not the ones stored."""
    problems: list[str] = []
    counts = _counts(session.connection())
    for name, expected in manifest["counts"].items():
        if counts.get(name) != expected:
            problems.append(f"{name}: {counts.get(name)} restored, {expected} backed up")
    for photo_id in session.scalars(select(Attachment.id).order_by(Attachment.id)):
        path = photo_path(photos, photo_id)
        if not path.is_file():
            problems.append(f"photo {photo_id}: its file is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != photo_id:
            problems.append(f"photo {photo_id}: its file's bytes changed")
    return problems
