"""Deployments in the database: a set of files stored once per content hash as an immutable
deployment, with a new version of each process in it; and what is deployed, read back (the
newest versions, a deployment's files, the newest calendar and translations)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from . import audit
from .definitions import CompiledProcess, SourceFile, compile_sources, content_hash
from .errors import NotFound, Problem
from .form_options import OrganisationOptions
from .models import Deployment, DeploymentFile, Instance, ProcessVersion
from .records import DeploymentRecord, ProcessRecord, VersionRecord

log = logging.getLogger(__name__)

# The engine's compiled process of a process version id (from its definition cache).
CompiledById = Callable[[Session, int], CompiledProcess]


class CompiledProcesses:
    """Compiled processes per deployment: each deployment's files are parsed once per process
    (never per request), and which deployment a version belongs to is remembered too, since
    versions are immutable."""

    def __init__(self, options: OrganisationOptions | None = None) -> None:
        self.options = options  # the organisation's choices, for the forms that take them
        self._by_deployment: dict[int, dict[str, CompiledProcess]] = {}
        self._version_keys: dict[int, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def put(self, deployment_id: int, compiled: dict[str, CompiledProcess]) -> None:
        for process in compiled.values():
            process.options = self.options
        with self._lock:
            self._by_deployment[deployment_id] = compiled

    def clear(self) -> None:
        """Forget everything compiled, as a new process would start."""
        with self._lock:
            self._by_deployment.clear()
            self._version_keys.clear()

    def of_deployment(self, session: Session, deployment_id: int) -> dict[str, CompiledProcess]:
        """A stored deployment compiled (once): what checks added since it was deployed find
        in its files is logged as warnings, never a refusal, so that its cases run on."""
        cached = self._by_deployment.get(deployment_id)
        if cached is None:
            findings: list[Problem] = []
            cached = compile_sources(files(session, deployment_id), findings, stored=True)
            for finding in findings:
                log.warning("deployment %s: %s", deployment_id, finding)
            self.put(deployment_id, cached)
        return cached

    def of_version(self, session: Session, version: ProcessVersion) -> CompiledProcess:
        return self.of_deployment(session, version.deployment_id)[version.process_id]

    def by_id(self, session: Session, process_version_id: int) -> CompiledProcess:
        """The compiled process of a version id: the `CompiledById` the read side takes."""
        key = self._version_keys.get(process_version_id)
        if key is None:
            version = session.get(ProcessVersion, process_version_id)
            if version is None:
                raise NotFound(f"process version {process_version_id} not found")
            key = self._version_keys[process_version_id] = (
                version.deployment_id,
                version.process_id,
            )
        return self.of_deployment(session, key[0])[key[1]]


@dataclass
class DeployResult:
    deployment_id: int
    created: bool
    versions: dict[str, int]  # process id -> version number now latest
    same_files_as: int | None = None  # an earlier deployment of the same files (a roll back)


def store(
    session: Session,
    sources: list[SourceFile],
    compiled: dict[str, CompiledProcess],
    deployed_by: str | None,
    now: datetime,
    comment: str | None = None,
) -> DeployResult:
    """Store compiled files as a new deployment, audited on the `system` chain (with the
    comment). Files that are what is deployed now (every process's newest version and every
    calendar and translation file in force come from them) store nothing and return the
    deployment they are; files of an earlier deployment that is no longer in force are
    deployed again as a new one, with new versions (a roll back)."""
    digest = content_hash(sources)
    latest = _version_numbers(session, compiled)
    earlier = session.scalar(
        select(Deployment.id)
        .where(Deployment.content_hash == digest)
        .order_by(Deployment.id.desc())
        .limit(1)
    )
    if earlier is not None and _in_force(session, sources, compiled, digest):
        return DeployResult(earlier, False, latest, earlier)
    deployment = Deployment(
        content_hash=digest, deployed_at=now, deployed_by=deployed_by, comment=comment or None
    )
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
    changes: dict[str, object] = {"deployment": deployment.id, "versions": versions, "hash": digest}
    if earlier is not None:
        changes["same_files_as"] = earlier
    head = audit.chain_head(session, "system")
    head = audit.append(
        session,
        "system",
        head,
        at=now,
        actor=deployed_by,
        action="deploy",
        changes=changes,
        comment=comment or None,
    )
    audit.store_head(session, "system", head)
    return DeployResult(deployment.id, True, versions, earlier)


def _in_force(
    session: Session, sources: list[SourceFile], compiled: dict[str, CompiledProcess], digest: str
) -> bool:
    """Whether deploying these files would change nothing: each of their processes' newest
    version comes from files with this hash, and each calendar or translation file among
    them is the newest deployed one of its name."""
    newest = {v.process_id: v.content_hash for v in newest_versions(session)}
    if any(newest.get(process_id) != digest for process_id in compiled):
        return False
    return all(
        newest_file(session, s.kind, s.name) == s.content
        for s in sources
        if s.kind in ("calendar", "translations")
    )


def _version_numbers(session: Session, process_ids: Iterable[str]) -> dict[str, int]:
    """The newest version number of each of the processes that has one."""
    return dict(
        session.execute(
            select(ProcessVersion.process_id, func.max(ProcessVersion.version))
            .where(ProcessVersion.process_id.in_(list(process_ids)))
            .group_by(ProcessVersion.process_id)
        ).all()
    )


def deployment_list(session: Session) -> list[DeploymentRecord]:
    """Every deployment, newest first, with its file names and process versions and the
    number of cases on each version (four queries, whatever the number of deployments)."""
    cases_on = (
        select(
            Instance.process_version_id,
            func.count().label("cases"),
            func.sum(case((Instance.status == "running", 1), else_=0)).label("running"),
        )
        .group_by(Instance.process_version_id)
        .subquery()
    )
    current = {v.id for v in newest_versions(session)}
    versions: dict[int, list[VersionRecord]] = {}
    for version, count, running in session.execute(
        select(ProcessVersion, cases_on.c.cases, cases_on.c.running)
        .outerjoin(cases_on, cases_on.c.process_version_id == ProcessVersion.id)
        .order_by(ProcessVersion.process_id)
    ):
        versions.setdefault(version.deployment_id, []).append(
            {
                "process_id": version.process_id,
                "version": version.version,
                "name": version.name,
                "cases": count or 0,
                "running": running or 0,
                "current": version.id in current,
            }
        )
    names: dict[int, list[str]] = {}
    for deployment_id, name in session.execute(
        select(DeploymentFile.deployment_id, DeploymentFile.name).order_by(DeploymentFile.name)
    ):
        names.setdefault(deployment_id, []).append(name)
    return [
        {
            "id": d.id,
            "content_hash": d.content_hash,
            "deployed_at": d.deployed_at.isoformat(),
            "deployed_by": d.deployed_by,
            "comment": d.comment,
            "files": names.get(d.id, []),
            "versions": versions.get(d.id, []),
        }
        for d in session.scalars(select(Deployment).order_by(Deployment.id.desc()))
    ]


def files(session: Session, deployment_id: int) -> list[SourceFile]:
    """A deployment's files; NotFound for no such deployment."""
    if session.get(Deployment, deployment_id) is None:
        raise NotFound(f"deployment {deployment_id} not found")
    rows = session.scalars(
        select(DeploymentFile).where(DeploymentFile.deployment_id == deployment_id)
    )
    return [SourceFile(f.name, f.kind, f.content) for f in rows]


def newest_deployment(session: Session) -> int:
    found = session.scalar(select(func.max(Deployment.id)))
    if found is None:
        raise NotFound("nothing is deployed yet")
    return int(found)


def deployment_of(session: Session, process_id: str, version: int) -> int:
    """The deployment a process version came with; NotFound for no such version."""
    found = session.scalar(
        select(ProcessVersion.deployment_id).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"process '{process_id}' has no version {version}")
    return int(found)


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


def version_of(session: Session, process_id: str, version: int | None) -> ProcessVersion:
    """A process's version by its number; the newest without one."""
    if version is None:
        return latest_version(session, process_id)
    found = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"process '{process_id}' has no version {version}")
    return found


def running_elsewhere(session: Session, version: ProcessVersion) -> list[int]:
    """The running cases of the version's process that are on another version."""
    return list(
        session.scalars(
            select(Instance.id)
            .where(
                Instance.process_id == version.process_id,
                Instance.status == "running",
                Instance.process_version_id != version.id,
            )
            .order_by(Instance.id)
        )
    )


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


def processes(session: Session, compiled_by_id: CompiledById) -> list[ProcessRecord]:
    """The newest version of every deployed process, with its start form and the fields of
    it that summarise a case and that the public form asks for (none: no public form)."""
    result: list[ProcessRecord] = []
    for row in newest_versions(session):
        compiled = compiled_by_id(session, row.id)
        properties = compiled.case_properties()
        result.append(
            {
                "process_id": row.process_id,
                "name": row.name,
                "version": row.version,
                "start_form": compiled.form(compiled.start_form),
                "summary_fields": list(compiled.summary_fields),
                "summary_schema": {  # in x-summary's order: the first is the headline
                    "type": "object",
                    "properties": {
                        name: properties[name]
                        for name in compiled.summary_fields
                        if name in properties
                    },
                },
                "public_fields": list(compiled.public_fields),
                "search_fields": list(compiled.search_fields),
            }
        )
    return result
