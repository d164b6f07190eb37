"""Open tasks: who may work one, and queues: SQL over the open-task projection, never a scan
of workflow state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, object_session

from .deployments import CompiledById
from .errors import Forbidden, NotFound, TaskClaimed, TaskDone
from .models import AuditEvent, Grid, Instance, InstanceField, OpenTask, TaskCandidate
from .notify import members
from .org import Actor
from .records import EscalatedTask, TaskCounts, TaskDetail, TaskRecord


@dataclass
class TaskQuery:
    process_id: str | None = None
    task_name: str | None = None
    queue: str | None = None  # a queue tab: the `queue` property of the task, else its title
    overdue: bool = False
    mine_only: bool = False  # claimed by the actor
    unclaimed_only: bool = False
    instance_id: int | None = None
    order: str = "due"  # due | created
    limit: int = 50
    offset: int = 0
    fields: dict[str, list[str]] = field(default_factory=dict)  # case field -> allowed values
    created_from: datetime | None = None
    created_to: datetime | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None


def task_view(row: OpenTask, now: datetime, case_number: str | None = None) -> TaskRecord:
    """The record of an open task; without `case_number`, the number comes from the case
    row in the task's session (a command on the task has it loaded already)."""
    if case_number is None:
        session = object_session(row)
        case = session.get(Instance, row.instance_id) if session else None
        case_number = case.number if case else None
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "case_number": case_number or "",
        "process_id": row.process_id,
        "task_name": row.task_name,
        "title": row.title,
        "queue": row.queue,
        "lane": row.lane,
        "form_key": row.form_key,
        "assignee": row.assignee,
        "created_at": row.created_at.isoformat(),
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "overdue": bool(row.due_at and row.due_at < now),
    }


def _candidate(actor: Actor) -> Any:
    """The open task has a candidate group of the actor's."""
    return exists().where(
        TaskCandidate.task_id == OpenTask.id, TaskCandidate.group_key.in_(sorted(actor.groups))
    )


def visible_to(actor: Actor) -> Any:
    """Tasks the actor may work: a candidate group of theirs, or claimed by them."""
    return or_(OpenTask.assignee == actor.username, _candidate(actor))


def authorized_task(session: Session, task_id: str, actor: Actor, fresh: bool = False) -> OpenTask:
    """The open task, if the actor is a candidate or its claimant (one SELECT). `fresh`:
    read again even if the session holds the row already (after waiting for a lock, the
    command before ours may have claimed or completed it)."""
    stmt = select(OpenTask, _candidate(actor).label("allowed")).where(OpenTask.id == task_id)
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    found = session.execute(stmt).first()
    if found is None:
        done = session.execute(  # its last event: a completion says by whom
            select(AuditEvent.instance_id, AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.task_id == task_id)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).first()
        if done is not None:
            by = done.actor if done.action == "complete" else None
            raise TaskDone(f"task {task_id} is already completed", done.instance_id, by)
        raise NotFound(f"task {task_id} not found")
    row, allowed = found
    if not allowed and row.assignee != actor.username:
        raise Forbidden(f"{actor.username} may not work task '{row.title}'")
    if row.assignee and row.assignee != actor.username:
        message = f"task '{row.title}' is claimed by {row.assignee}"
        raise TaskClaimed(message, row.assignee, row.instance_id)
    return row


def task_detail(
    session: Session, task_id: str, actor: Actor, now: datetime, compiled_by_id: CompiledById
) -> TaskDetail:
    """One open task with its form schema and the case data, if the actor may work it."""
    row = authorized_task(session, task_id, actor)
    instance = session.get(Instance, row.instance_id)
    if instance is None:
        raise NotFound(f"case {row.instance_id} not found")
    compiled = compiled_by_id(session, instance.process_version_id)
    return {
        **task_view(row, now, instance.number),
        "form": compiled.form(row.form_key),
        "data": instance.data,
    }


def group_colleagues(session: Session, actor: Actor) -> list[str]:
    """The people several tasks can be handed over to at once: the actor's department, or
    for someone in none the people of their roles (every officer has the role `department`,
    so a role alone would reach other departments); the actor left out."""
    kind = "dept:" if actor.department else "role:"
    shared = [g for g in actor.groups if g.startswith(kind)]
    return sorted(members(session, shared) - {actor.username})


def colleagues(session: Session, task_id: str, actor: Actor) -> list[str]:
    """Who else may work the task: the people a hand-over can go to."""
    authorized_task(session, task_id, actor)
    return sorted(members(session, candidate_groups(session, task_id)) - {actor.username})


def open_task(session: Session, task_id: str) -> OpenTask:
    """An open task, whoever asks (callers decide who may do what with it)."""
    row = session.get(OpenTask, task_id)
    if row is None:
        raise NotFound(f"task {task_id} not found")
    return row


def candidate_groups(session: Session, task_id: str) -> set[str]:
    return set(
        session.scalars(select(TaskCandidate.group_key).where(TaskCandidate.task_id == task_id))
    )


def _filtered(stmt: Any, query: TaskQuery, now: datetime) -> Any:
    """The filters shared by lists and counts, so that counts always match the rows."""
    for name, values in query.fields.items():
        if values:
            stmt = stmt.where(
                exists().where(
                    InstanceField.instance_id == OpenTask.instance_id,
                    InstanceField.name == name,
                    InstanceField.value.in_(values),
                )
            )
    if query.created_from:
        stmt = stmt.where(OpenTask.created_at >= query.created_from)
    if query.created_to:
        stmt = stmt.where(OpenTask.created_at < query.created_to)
    if query.due_from:
        stmt = stmt.where(OpenTask.due_at >= query.due_from)
    if query.due_to:
        stmt = stmt.where(OpenTask.due_at < query.due_to)
    if query.process_id:
        stmt = stmt.where(OpenTask.process_id == query.process_id)
    return stmt


def tasks_for(session: Session, actor: Actor, query: TaskQuery, now: datetime) -> list[TaskRecord]:
    stmt = _filtered(
        select(OpenTask, Instance.number)
        .join(Instance, Instance.id == OpenTask.instance_id)
        .where(visible_to(actor)),
        query,
        now,
    )
    if query.process_id:
        stmt = stmt.where(OpenTask.process_id == query.process_id)
    if query.task_name:
        stmt = stmt.where(OpenTask.task_name == query.task_name)
    if query.queue:
        stmt = stmt.where(OpenTask.queue == query.queue)
    if query.instance_id is not None:
        stmt = stmt.where(OpenTask.instance_id == query.instance_id)
    if query.overdue:
        stmt = stmt.where(OpenTask.due_at < now)
    if query.mine_only:
        stmt = stmt.where(OpenTask.assignee == actor.username)
    if query.unclaimed_only:
        stmt = stmt.where(OpenTask.assignee.is_(None))
    if query.order == "created":
        stmt = stmt.order_by(OpenTask.created_at, OpenTask.id)
    else:
        stmt = stmt.order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at)
    stmt = stmt.limit(query.limit).offset(query.offset)
    return [task_view(row, now, number) for row, number in session.execute(stmt)]


def task_counts(
    session: Session,
    actor: Actor,
    now: datetime,
    query: TaskQuery | None = None,
    task_order: dict[str, int] | None = None,
) -> TaskCounts:
    """Counts for queue tabs in one query: all, mine, unclaimed, overdue, and per queue.

    Queues come in process order (`task_order`: task name -> position), so the tabs read
    like the case goes: triage, dispatch, returned, ..., verification."""
    stmt = _filtered(
        select(
            OpenTask.queue,
            func.min(OpenTask.task_name),
            func.count(),
            func.sum(case((OpenTask.assignee == actor.username, 1), else_=0)),
            func.sum(case((OpenTask.assignee.is_(None), 1), else_=0)),
            func.sum(case((OpenTask.due_at < now, 1), else_=0)),
        ).where(visible_to(actor)),
        query or TaskQuery(),
        now,
    )
    order = task_order or {}
    rows = sorted(
        session.execute(stmt.group_by(OpenTask.queue)).all(),
        key=lambda r: (order.get(r[1], len(order)), r[1], r[0]),
    )
    return {
        "all": sum(r[2] for r in rows),
        "mine": sum(r[3] or 0 for r in rows),
        "unclaimed": sum(r[4] or 0 for r in rows),
        "overdue": sum(r[5] or 0 for r in rows),
        "by_queue": [{"queue": r[0], "task_name": r[1], "count": r[2]} for r in rows],
    }


def escalated_to(session: Session, actor: Actor, now: datetime) -> list[EscalatedTask]:
    """Open tasks that reached the actor as the supervising leader of a grid (a `leader:`
    group): with the grid and its level, oldest first, for the leader's view (督办)."""
    leader_groups = sorted(g for g in actor.groups if g.startswith("leader:"))
    if not leader_groups:
        return []
    rows = session.execute(
        select(OpenTask, Instance.number, Grid.code, Grid.name, Grid.level)
        .join(Instance, Instance.id == OpenTask.instance_id)
        .join(TaskCandidate, TaskCandidate.task_id == OpenTask.id)
        .join(Grid, TaskCandidate.group_key == literal("leader:") + Grid.code)
        .where(TaskCandidate.group_key.in_(leader_groups))
        .order_by(OpenTask.created_at, OpenTask.id)
    ).all()
    return [
        {
            **task_view(task, now, number),
            "grid": code,
            "grid_name": name,
            "grid_level": level,
            "waiting_days": (now - task.created_at).days,
        }
        for task, number, code, name, level in rows
    ]
