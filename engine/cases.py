"""Cases, read side: one case with its tasks, timers and history, lists of case summaries,
who may see a case, its diagram and the schema of its data. Nothing here writes."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, defer

from .deployments import CompiledById
from .errors import NotFound
from .models import (
    AuditEvent,
    Department,
    DeploymentFile,
    Grid,
    Instance,
    OpenTask,
    ProcessVersion,
    TaskCandidate,
    Timer,
    User,
)
from .org import Actor, display_names
from .records import CaseDetail, CaseSection, CaseSummary, Diagram, HistoryEvent
from .tasks import task_view
from .visibility import Visibility


def get(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"case {instance_id} not found")
    return instance


def _version(session: Session, case: Instance) -> ProcessVersion:
    version = session.get(ProcessVersion, case.process_version_id)
    if version is None:  # the foreign key says otherwise; the checker cannot know
        raise NotFound(f"process version {case.process_version_id} not found")
    return version


def instance(session: Session, instance_id: int, now: datetime) -> CaseDetail:
    """The case with its data, open tasks, waiting timers and history."""
    case = get(session, instance_id)
    version = _version(session, case)
    open_tasks = session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)).all()
    timers = session.scalars(
        select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.fire_at)
    ).all()
    return {
        "id": case.id,
        "number": case.number or "",
        "process_id": case.process_id,
        "version": version.version,
        "status": case.status,
        "end_event": case.end_event,
        "error": case.error,
        "data": case.data,
        "created_by": case.created_by,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "completed_at": case.completed_at.isoformat() if case.completed_at else None,
        "open_tasks": [task_view(t, now, case.number) for t in open_tasks],
        "timers": [
            {"task_name": t.task_name, "title": t.title, "fire_at": t.fire_at.isoformat()}
            for t in timers
        ],
        "history": history(session, instance_id),
    }


def task_holders(session: Session, instance_id: int) -> dict[str, str]:
    """Open task id -> whom it waits on, by name: its department (a `dept:` candidate group)
    or its supervising leader and their grid (a `leader:` group). A jointly handled case
    waits on several departments' tasks of one name, an escalated one on several leaders'."""
    rows = session.execute(
        select(TaskCandidate.task_id, TaskCandidate.group_key)
        .join(OpenTask, OpenTask.id == TaskCandidate.task_id)
        .where(
            OpenTask.instance_id == instance_id,
            or_(TaskCandidate.group_key.like("dept:%"), TaskCandidate.group_key.like("leader:%")),
        )
    ).all()
    departments = {g.removeprefix("dept:") for _t, g in rows if g.startswith("dept:")}
    grids = {g.removeprefix("leader:") for _t, g in rows if g.startswith("leader:")}
    names: dict[str, str] = {
        code: name
        for code, name in session.execute(
            select(Department.code, Department.name).where(Department.code.in_(departments))
        )
    }
    leaders = {
        code: f"{leader or '?'} ({name})"
        for code, name, leader in session.execute(
            select(Grid.code, Grid.name, User.display_name)
            .outerjoin(User, User.username == Grid.leader)
            .where(Grid.code.in_(grids))
        )
    }
    found: dict[str, str] = {}
    for task_id, group in rows:
        kind, _sep, code = group.partition(":")
        found.setdefault(
            task_id, names.get(code, code) if kind == "dept" else leaders.get(code, code)
        )
    return found


def history(session: Session, instance_id: int) -> list[HistoryEvent]:
    """The case's audit events, oldest first, with the names of the people who acted."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.chain == f"instance:{instance_id}")
        .order_by(AuditEvent.seq)
    ).all()
    names = display_names(session, {e.actor for e in events if e.actor})
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "actor_name": names.get(e.actor, e.actor) if e.actor else None,
            "action": e.action,
            "task_id": e.task_id,
            "task_name": e.task_name,
            "title": e.title,
            "changes": e.changes,
            "comment": e.comment,
        }
        for e in events
    ]


def instances(
    session: Session,
    process_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
    created_by: str | None,
    compiled_by_id: CompiledById,
) -> list[CaseSummary]:
    """Summaries of the newest cases first, optionally of one process, status or reporter,
    each with the stage it is at."""
    stmt = (
        select(Instance)
        .options(defer(Instance.state))  # a list needs the case data, not the state
        .order_by(Instance.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if process_id:
        stmt = stmt.where(Instance.process_id == process_id)
    if status:
        stmt = stmt.where(Instance.status == status)
    if created_by:
        stmt = stmt.where(Instance.created_by == created_by)
    return with_stages(session, summaries_of(session, session.scalars(stmt), compiled_by_id))


def with_stages(session: Session, found: list[CaseSummary]) -> list[CaseSummary]:
    """Add to each summary `stage`: the titles of its open tasks while it runs, the title of
    the end event it closed at once done. Two queries for the whole list."""
    ids = [s["id"] for s in found]
    stages: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for instance_id, title in session.execute(
            select(OpenTask.instance_id, OpenTask.title)
            .where(OpenTask.instance_id.in_(ids))
            .order_by(OpenTask.created_at)
        ):
            if title:
                stages[instance_id].append(title)
        ended = [s["id"] for s in found if s["status"] != "running"]
        if ended:
            for ended_id, title in session.execute(
                select(AuditEvent.instance_id, AuditEvent.title).where(
                    AuditEvent.instance_id.in_(ended), AuditEvent.action == "end"
                )
            ):
                if ended_id is not None:
                    stages[ended_id] = [title] if title else []
    for s in found:
        s["stage"] = list(dict.fromkeys(stages[s["id"]]))
    return found


def summaries(
    session: Session, instance_ids: Collection[int], compiled_by_id: CompiledById
) -> dict[int, CaseSummary]:
    """Summaries of many cases in one query (a queue page never queries per row)."""
    if not instance_ids:
        return {}
    rows = session.scalars(
        select(Instance)
        .options(defer(Instance.state))  # the list needs the case data, not the state
        .where(Instance.id.in_(set(instance_ids)))
    )
    return {s["id"]: s for s in summaries_of(session, rows, compiled_by_id)}


def one_summary(session: Session, instance_id: int, compiled_by_id: CompiledById) -> CaseSummary:
    """One case's summary with the stage it is at (the public lookup shows it)."""
    found = summaries_of(session, [get(session, instance_id)], compiled_by_id)
    return with_stages(session, found)[0]


def summaries_of(
    session: Session, found: Iterable[Instance], compiled_by_id: CompiledById
) -> list[CaseSummary]:
    """The summary of each case, with the fields its own version's start form names in
    `x-summary`; each version's compiled process is looked up once per list."""
    fields: dict[int, Sequence[str]] = {}
    result: list[CaseSummary] = []
    for case in found:
        version_id = case.process_version_id
        if version_id not in fields:
            fields[version_id] = compiled_by_id(session, version_id).summary_fields
        result.append(summary(case, fields[version_id]))
    return result


def summary(case: Instance, fields: Sequence[str]) -> CaseSummary:
    """A case as a list shows it; `fields`: its process's x-summary (none: no summary)."""
    data = case.data or {}
    return {
        "id": case.id,
        "number": case.number or "",
        "process_id": case.process_id,
        "status": case.status,
        "end_event": case.end_event,
        "created_by": case.created_by,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "summary": {k: data[k] for k in fields if k in data},
    }


def can_view(session: Session, actor: Actor, instance_id: int, rule: Visibility) -> bool:
    """Whether the actor may see the case (the rule is `visibility`); a case that does not
    exist raises NotFound, for everyone."""
    get(session, instance_id)
    return rule.may_see(session, actor, instance_id)


def diagram(session: Session, instance_id: int, compiled_by_id: CompiledById) -> Diagram:
    """The BPMN of the case's own version, with the elements it has completed and where
    it is now (open tasks, waiting events), for the diagram on the case page."""
    case = get(session, instance_id)
    version = _version(session, case)
    compiled = compiled_by_id(session, version.id)
    xml: str | None = session.scalar(
        select(DeploymentFile.content).where(
            DeploymentFile.deployment_id == version.deployment_id,
            DeploymentFile.name == compiled.bpmn_file,
        )
    )
    state = json.loads(case.state)
    specs: dict[str, str] = {}
    for spec in [compiled.spec, *compiled.subprocess_specs.values()]:
        specs.update({name: ts.bpmn_id for name, ts in spec.task_specs.items() if ts.bpmn_id})
    completed: set[str] = set()
    active: set[str] = set()
    task_maps = [state.get("tasks", {})]
    task_maps += [sub.get("tasks", {}) for sub in state.get("subprocesses", {}).values()]
    for tasks in task_maps:
        for task in tasks.values():
            bpmn_id = specs.get(task.get("task_spec"))
            if bpmn_id is None:
                continue
            if task["state"] == TaskState.COMPLETED:
                completed.add(bpmn_id)
            elif task["state"] in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                active.add(bpmn_id)
    return {"xml": xml, "completed": sorted(completed - active), "active": sorted(active)}


def case_sections(
    session: Session, instance_id: int, compiled_by_id: CompiledById
) -> list[CaseSection]:
    """The case's fields by the step that fills them in (report, classification, dispatch,
    rectification, verification ...), for a case page that reads like the case went."""
    compiled = compiled_by_id(session, get(session, instance_id).process_version_id)
    return [
        {"title": title, "schema": {"type": "object", "properties": fields}}
        for title, fields in compiled.case_sections()
    ]


def case_schema(session: Session, instance_id: int, compiled_by_id: CompiledById) -> dict[str, Any]:
    """Every field the case's forms define (start form first, then task forms in process
    order), so that its data can be shown with the titles people know."""
    compiled = compiled_by_id(session, get(session, instance_id).process_version_id)
    return {"type": "object", "properties": compiled.case_properties()}
