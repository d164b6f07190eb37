"""The projection: open human tasks (`open_tasks`, `task_candidates`) and waiting timers
(`timers`) as rows, a pure function of the workflow state.

Before/after snapshots of the live workflow say which rows a step deletes and inserts, so no
command reads these tables to write them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from .clock import parse_iso
from .definitions import CompiledProcess
from .models import Instance, OpenTask, TaskCandidate, Timer
from .notify import Notifier
from .spiff_timers import fire_time

OPEN_TASKS = cast(Table, OpenTask.__table__)
TASK_CANDIDATES = cast(Table, TaskCandidate.__table__)
TIMERS = cast(Table, Timer.__table__)


@dataclass
class Snapshot:
    """What the projection tables hold for a workflow: open human tasks and waiting timers."""

    tasks: dict[str, Any]
    timers: dict[str, tuple[datetime, Any]]

    def waiting(self) -> list[Any]:
        """The tasks the case waits on: open human tasks and waiting timer events."""
        return [*self.tasks.values(), *(task for _at, task in self.timers.values())]


def snapshot(workflow: Any) -> Snapshot:
    tasks: dict[str, Any] = {}
    timers: dict[str, tuple[datetime, Any]] = {}
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        spec = task.task_spec
        if task.state == TaskState.READY and getattr(spec, "manual", False):
            tasks[str(task.id)] = task
        elif task.state == TaskState.WAITING and isinstance(
            getattr(spec, "event_definition", None), TimerEventDefinition
        ):
            at = fire_time(task)
            if at is not None:
                timers[str(task.id)] = (at, task)
    return Snapshot(tasks, timers)


class ProjectionWriter:
    """Brings open_tasks, task_candidates and timers in line with a workflow after a step."""

    def __init__(
        self,
        session: Session,
        instance: Instance,
        compiled: CompiledProcess,
        evaluate: Callable[[Any, str], Any],
        now: datetime,
        notifier: Notifier | None = None,
    ) -> None:
        self.session = session
        self.instance = instance
        self.compiled = compiled
        self.evaluate = evaluate
        self.now = now
        self.notifier = notifier

    def write(self, before: Snapshot, after: Snapshot) -> None:
        # Core statements on the session's connection: the ORM adds nothing for plain rows.
        conn = self.session.connection()
        gone = [tid for tid in before.tasks if tid not in after.tasks]
        if gone:  # their task_candidates rows go with them (ON DELETE CASCADE)
            conn.execute(delete(OPEN_TASKS).where(OPEN_TASKS.c.id.in_(gone)))
        new = [(tid, task) for tid, task in after.tasks.items() if tid not in before.tasks]
        if new:
            rows: list[dict[str, Any]] = []
            candidates: list[dict[str, str]] = []
            for tid, task in new:
                row, groups = self.task_row(tid, task)
                if self.notifier is not None:
                    self.notifier.task_opened(task, groups)
                rows.append(row)
                candidates.extend({"task_id": tid, "group_key": g} for g in groups)
            conn.execute(insert(OPEN_TASKS), rows)
            if candidates:
                conn.execute(insert(TASK_CANDIDATES), candidates)
        stale = [
            tid
            for tid, (at, _t) in before.timers.items()
            if tid not in after.timers or after.timers[tid][0] != at
        ]
        if stale:
            conn.execute(
                delete(TIMERS).where(
                    TIMERS.c.instance_id == self.instance.id, TIMERS.c.task_id.in_(stale)
                )
            )
        fresh = [
            {
                "instance_id": self.instance.id,
                "task_id": tid,
                "task_name": task.task_spec.bpmn_id or task.task_spec.name,
                "title": task.task_spec.bpmn_name,
                "fire_at": at,
            }
            for tid, (at, task) in after.timers.items()
            if tid not in before.timers or before.timers[tid][0] != at
        ]
        if fresh:
            conn.execute(insert(TIMERS), fresh)

    def task_row(self, tid: str, task: Any) -> tuple[dict[str, Any], list[str]]:
        spec = task.task_spec
        info = self.compiled.human_tasks.get(spec.name)
        lane = info.lane if info else spec.lane
        if info and info.candidates:
            found = self.evaluate(task, info.candidates)
            if isinstance(found, str):
                found = [found]
            groups = [str(g) for g in found or [] if g]
        else:
            groups = [f"role:{lane}" if lane else "role:admin"]
        due = None
        if info and info.due:
            value = self.evaluate(task, info.due)
            due = parse_iso(value) if value else None
        title = info.title if info else (spec.bpmn_name or spec.name)
        queue = self.evaluate(task, info.queue) if info and info.queue else None
        row = {
            "id": tid,
            "instance_id": self.instance.id,
            "process_id": self.instance.process_id,
            "task_name": spec.bpmn_id or spec.name,
            "title": title,
            "queue": str(queue or title)[:255],
            "lane": lane,
            "form_key": info.form_key if info else None,
            "assignee": None,
            "created_at": self.now,
            "due_at": due,
        }
        return row, list(dict.fromkeys(groups))
