"""Deployments in the database: a set of files stored once per content hash as an immutable
deployment, with a new version of each process in it; and what is deployed, read back (the
newest versions, a deployment's files, the newest calendar and translations)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .definitions import CompiledProcess, SourceFile, content_hash
from .errors import NotFound
from .models import Deployment, DeploymentFile, ProcessVersion

# The engine's compiled process of a process version id (from its definition cache).
CompiledById = Callable[[Session, int], CompiledProcess]


@dataclass
class DeployResult:
    deployment_id: int
    created: bool
    versions: dict[str, int]  # process id -> version number now latest


def store(
    session: Session,
    sources: list[SourceFile],
    compiled: dict[str, CompiledProcess],
    deployed_by: str | None,
    now: datetime,
) -> DeployResult:
    """Store compiled files as a new deployment, audited on the `system` chain; files
    identical to an earlier deployment's store nothing and return that deployment."""
    digest = content_hash(sources)
    existing = session.scalar(select(Deployment).where(Deployment.content_hash == digest))
    latest = _version_numbers(session, compiled)
    if existing is not None:
        return DeployResult(existing.id, False, latest)
    deployment = Deployment(content_hash=digest, deployed_at=now, deployed_by=deployed_by)
    session.add(deployment)
    session.flush()
    session.add_all(
        DeploymentFile(deployment_id=deployment.id, name=s.name, kind=s.kind, content=s.content)
        for s in sources
    )
    versions = {}
    for process_id, process in compiled.items():
        version = latest.get(process_id, 0) + 1
        session.add(
            ProcessVersion(
                process_id=process_id,
                version=version,
                name=process.name,
                content_hash=digest,
                deployment_id=deployment.id,
                start_form=process.start_form,
            )
        )
        versions[process_id] = version
    head = audit.chain_head(session, "system")
    head = audit.append(
        session,
        "system",
        head,
        at=now,
        actor=deployed_by,
        action="deploy",
        changes={"deployment": deployment.id, "versions": versions, "hash": digest},
    )
    audit.store_head(session, "system", head)
    return DeployResult(deployment.id, True, versions)


def _version_numbers(session: Session, process_ids: Iterable[str]) -> dict[str, int]:
    """The newest version number of each of the processes that has one."""
    return dict(
        session.execute(
            select(ProcessVersion.process_id, func.max(ProcessVersion.version))
            .where(ProcessVersion.process_id.in_(list(process_ids)))
            .group_by(ProcessVersion.process_id)
        ).all()
    )


def files(session: Session, deployment_id: int) -> list[SourceFile]:
    rows = session.scalars(
        select(DeploymentFile).where(DeploymentFile.deployment_id == deployment_id)
    )
    return [SourceFile(f.name, f.kind, f.content) for f in rows]


def newest_file(session: Session, kind: str, name: str | None = None) -> str | None:
    """The text of a file of this kind (and name) in the newest deployment that has one."""
    stmt = select(DeploymentFile.content).where(DeploymentFile.kind == kind)
    if name is not None:
        stmt = stmt.where(DeploymentFile.name == name)
    return session.scalar(stmt.order_by(DeploymentFile.deployment_id.desc()).limit(1))


def latest_version(session: Session, process_id: str) -> ProcessVersion:
    version = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"process '{process_id}' is not deployed")
    return version


def newest_versions(session: Session) -> list[ProcessVersion]:
    """The newest version of every deployed process, by process id."""
    newest = (
        select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v"))
        .group_by(ProcessVersion.process_id)
        .subquery()
    )
    rows = session.scalars(
        select(ProcessVersion).join(
            newest,
            (ProcessVersion.process_id == newest.c.process_id)
            & (ProcessVersion.version == newest.c.v),
        )
    )
    return sorted(rows, key=lambda row: row.process_id)


def processes(session: Session, compiled_by_id: CompiledById) -> list[dict[str, Any]]:
    """The newest version of every deployed process, with its start form and the fields of
    it that summarise a case and that the public form asks for (none: no public form)."""
    result = []
    for row in newest_versions(session):
        compiled = compiled_by_id(session, row.id)
        result.append(
            {
                "process_id": row.process_id,
                "name": row.name,
                "version": row.version,
                "start_form": compiled.form(compiled.start_form),
                "summary_fields": list(compiled.summary_fields),
                "public_fields": list(compiled.public_fields),
            }
        )
    return result
