"""Commands on instances: one command, one transaction, one version bump.

load the instance row -> restore (or reuse) the live workflow -> run the step ->
do_engine_steps -> write state + task projection + timer rows + audit event -> commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit
from .clock import parse_iso
from .definitions import CompiledProcess
from .errors import Conflict, EngineError, WorkflowFailed
from .models import Instance, OpenTask, TaskCandidate, Timer
from .notify import Notifier
from .sandbox import SandboxTimeout, SandboxViolation
from .serialization import load_state
from .spiff_timers import fire_time

if TYPE_CHECKING:
    from .org import Actor

# The session of the command being run, for helper functions such as leader_of().
current_session: ContextVar[Session | None] = ContextVar("current_session", default=None)


class EngineScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine with our sandbox as its only environment, and a clock."""

    def __init__(self, environment: Any, now: Callable[[], datetime]) -> None:
        super().__init__(environment=environment)
        self.now = now


@dataclass
class Snapshot:
    """What the projection tables hold for a workflow: open human tasks and waiting timers."""

    tasks: dict[str, Any]
    timers: dict[str, tuple[datetime, Any]]


@dataclass
class LiveCase:
    """A case checked out for one command: its row, process, live workflow and projection."""

    instance: Instance
    compiled: CompiledProcess
    workflow: Any
    before: Snapshot
    after: Snapshot | None = None


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
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


def reached_end_event(workflow: BpmnWorkflow) -> Any | None:
    """The spec of the top-level end event reached, or None.

    SpiffWorkflow 3.2 stops walking the task tree at depth 1,000 and may then report a
    workflow complete that never reached an end event; we only believe an end event.
    """
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if isinstance(task.task_spec, EndEvent) and task.workflow is workflow:
            return task.task_spec
    return None


# SpiffWorkflow 3.2 walks the task tree (to find READY tasks, to decide it is complete, ...)
# only to depth 1,000; tasks below it are never run. Tasks this deep are checked one by one.
TREE_WALK_DEPTH = 1000
_SUSPECT_DEPTH = TREE_WALK_DEPTH - 100
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _tree_depth(task: Any) -> int:
    """The task's depth as SpiffWorkflow's walk counts it: subprocess trees hang below their
    call activity or subprocess task."""
    depth = task.depth
    workflow = task.workflow
    while getattr(workflow, "parent_task_id", None) is not None:
        parent = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if parent is None:
            break
        depth += parent.depth + 1
        workflow = parent.workflow
    return depth


def out_of_reach(workflow: BpmnWorkflow) -> Any | None:
    """A task that waits to run but lies beyond SpiffWorkflow's tree walk, or None.

    Such a task never runs: the case is stuck, and SpiffWorkflow may even report the workflow
    complete. The marker task 'End' (after an end event was reached) does not count.
    """
    deep = [
        task
        for wf in (workflow, *workflow.subprocesses.values())
        for task in wf.tasks.values()
        if task.state & _ACTIVE
        and task.task_spec.name != "End"
        and _tree_depth(task) >= _SUSPECT_DEPTH
    ]
    if not deep:
        return None
    reached = {task.id for task in workflow.get_tasks(state=_ACTIVE)}
    return next((task for task in deep if task.id not in reached), None)


def close_if_ended(
    session: Session,
    instance: Instance,
    workflow: BpmnWorkflow,
    actor: Actor | None,
    now: datetime,
) -> None:
    """Close a running case that this step ended, with an audit event: `completed` at the end
    event it reached; `error` when a task lies beyond the tree walk (it could never run) or
    the workflow stopped without reaching an end event."""
    if instance.status != "running":
        return
    stuck = out_of_reach(workflow)
    if stuck is not None:
        spec = stuck.task_spec
        instance.status, instance.completed_at = "error", now
        instance.error = (
            f"stopped before '{spec.bpmn_id or spec.name}': the case went round its loops "
            f"too often for SpiffWorkflow, which runs no task deeper than "
            f"{TREE_WALK_DEPTH:,} steps in its task tree; it cannot continue"
        )
        record(session, instance, actor, now, "end", comment=instance.error)
    elif workflow.is_completed():
        end = reached_end_event(workflow)
        instance.completed_at = now
        if end is None:
            instance.status = "error"
            instance.error = (
                "the workflow stopped without reaching an end event "
                "(SpiffWorkflow's task tree limit?)"
            )
            record(session, instance, actor, now, "end", title=instance.error)
        else:
            end_id = end.bpmn_id or end.name
            instance.status, instance.end_event = "completed", end_id
            record(
                session,
                instance,
                actor,
                now,
                "end",
                task_name=end_id,
                title=end.bpmn_name or end_id,
            )


def waiting_message(workflow: BpmnWorkflow, name: str) -> Any | None:
    """The definition of message `name` that a waiting task of the workflow would catch."""

    def messages(definition: Any) -> Iterator[Any]:
        if isinstance(definition, MessageEventDefinition):
            yield definition
        for inner in getattr(definition, "event_definitions", None) or []:
            yield from messages(inner)

    for task in workflow.event_manager.tasks.values():
        if task.has_state(TaskState.WAITING):
            for definition in messages(getattr(task.task_spec, "event_definition", None)):
                if definition.name == name:
                    return definition
    return None


def deliver_message(
    workflow: BpmnWorkflow, name: str, payload: Any, correlations: dict[str, Any]
) -> bool:
    """Hand message `name` to the tasks waiting for it; False if none waits (or correlates)."""
    definition = waiting_message(workflow, name)
    if definition is None:
        return False
    try:
        workflow.send_event(BpmnEvent(definition, payload, correlations))
    except WorkflowException as exc:
        if "not waiting" in str(exc):
            return False  # a task waits for this message, but of another conversation
        raise WorkflowFailed(_describe(exc)) from exc
    except (SandboxViolation, SandboxTimeout) as exc:
        raise WorkflowFailed(f"refused by the sandbox: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - correlation expressions are process code
        raise WorkflowFailed(f"message '{name}': {exc}") from exc
    return True


def case_data(workflow: BpmnWorkflow, now: Snapshot) -> dict[str, Any]:
    """The data a person sees for the case: that of its open tasks and waiting timers, else
    of the last completed task.

    Parallel branches each carry their own copy (e.g. the supervision branch knows
    `overdue` and `escalation_level` while the rectify task does not), so the branches are
    merged, the one that changed last winning where they disagree."""
    data = workflow.last_task.data if workflow.last_task else workflow.data
    waiting = [*now.tasks.values(), *(task for _at, task in now.timers.values())]
    if waiting:
        data = {}
        for task in sorted(waiting, key=lambda t: t.last_state_change):
            data.update(task.data)
    elif workflow.is_completed():  # at an end event; else cut short (see out_of_reach)
        for task in workflow.get_tasks(state=TaskState.COMPLETED):
            if isinstance(task.task_spec, EndEvent) and task.workflow is workflow:
                data = {**workflow.data, **task.data}
    clean = {k: v for k, v in data.items() if not k.startswith("_") and k != "data_objects"}
    return json.loads(json.dumps(clean, default=str, ensure_ascii=False))


def run_engine_steps(workflow: BpmnWorkflow, notifier: Notifier | None = None) -> None:
    try:
        workflow.do_engine_steps(did_complete_task=notifier.task_completed if notifier else None)
    except (SandboxViolation, SandboxTimeout) as exc:
        raise WorkflowFailed(f"refused by the sandbox: {exc}") from exc
    except SpiffWorkflowException as exc:
        raise WorkflowFailed(_describe(exc)) from exc
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a service task: the process's fault, not ours
        raise WorkflowFailed(f"{type(exc).__name__}: {exc}") from exc


def _describe(exc: SpiffWorkflowException) -> str:
    task = getattr(exc, "task", None)
    where = ""
    if task is not None:
        spec = task.task_spec
        where = f"{spec.bpmn_name or spec.bpmn_id or spec.name} ({spec.bpmn_id or spec.name}): "
    notes = "; ".join(getattr(exc, "__notes__", []) or [])
    return f"{where}{exc}" + (f" [{notes}]" if notes else "")


class ProjectionWriter:
    """Brings open_tasks, task_candidates and timers in line with a workflow after a step.

    The tables are a pure function of the state, so the before/after snapshots of the live
    workflow say exactly which rows to delete and insert: no read of the tables is needed.
    """

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
            conn.execute(delete(OpenTask.__table__).where(OpenTask.__table__.c.id.in_(gone)))
        new = [(tid, task) for tid, task in after.tasks.items() if tid not in before.tasks]
        if new:
            rows, candidates = [], []
            for tid, task in new:
                row, groups = self._task_row(tid, task)
                if self.notifier is not None:
                    self.notifier.task_opened(task, groups)
                rows.append(row)
                candidates.extend({"task_id": tid, "group_key": g} for g in groups)
            conn.execute(insert(OpenTask.__table__), rows)
            if candidates:
                conn.execute(insert(TaskCandidate.__table__), candidates)
        stale = [
            tid
            for tid, (at, _t) in before.timers.items()
            if tid not in after.timers or after.timers[tid][0] != at
        ]
        if stale:
            self.session.execute(
                delete(Timer).where(Timer.instance_id == self.instance.id, Timer.task_id.in_(stale))
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
            conn.execute(insert(Timer.__table__), fresh)

    def _task_row(self, tid: str, task: Any) -> tuple[dict[str, Any], list[str]]:
        spec = task.task_spec
        info = self.compiled.human_tasks.get(spec.name)
        lane = info.lane if info else spec.lane
        if info and info.candidates:
            groups = self.evaluate(task, info.candidates)
            if isinstance(groups, str):
                groups = [groups]
            groups = [str(g) for g in groups or [] if g]
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


@contextmanager
def conflicts_as_409(instance_id: int) -> Iterator[None]:
    try:
        yield
    except StaleDataError as exc:
        raise Conflict(
            f"case {instance_id} was changed by someone else at the same time; reload and retry"
        ) from exc
    except IntegrityError as exc:
        raise Conflict(f"case {instance_id} was changed at the same time: {exc.orig}") from exc


def record(
    session: Session,
    instance: Instance,
    actor: Actor | None,
    at: datetime,
    action: str,
    **fields: Any,
) -> None:
    """Append an event to the instance's own audit chain (its head lives on the row)."""
    head = audit.append(
        session,
        f"instance:{instance.id}",
        (instance.audit_seq, instance.audit_head),
        at=at,
        actor=actor.username if actor else None,
        action=action,
        instance_id=instance.id,
        **fields,
    )
    instance.audit_seq, instance.audit_head = head


def restore(instance: Instance, compiled: CompiledProcess, script_engine: Any) -> BpmnWorkflow:
    return load_state(instance.state, compiled.spec, compiled.subprocess_specs, script_engine)


def new_workflow(compiled: CompiledProcess, script_engine: Any, data: dict[str, Any]) -> Any:
    workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def find_task(workflow: BpmnWorkflow, task_id: str) -> Any | None:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises its own "not found" error
        return None
