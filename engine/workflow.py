"""What the engine does to a SpiffWorkflow workflow: create, restore, run a user task, run the
engine steps, deliver a message, fire timers, read its data and tell whether it ended.

The one module of the command pipeline that speaks SpiffWorkflow's API; `runtime` drives it
and `projection` reads what it leaves behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from copy import deepcopy
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from .definitions import CompiledProcess
from .errors import Conflict, EngineError, WorkflowFailed
from .models import Instance
from .notify import Notifier
from .sandbox import SandboxTimeout, SandboxViolation
from .serialization import load_state


class EngineScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine with our sandbox as its only environment, and a clock."""

    def __init__(self, environment: Any, now: Callable[[], datetime]) -> None:
        super().__init__(environment=environment)
        self.now = now


def new_workflow(compiled: CompiledProcess, script_engine: Any, data: dict[str, Any]) -> Any:
    """A new workflow of the process whose start task carries the start form's data."""
    workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def restore(instance: Instance, compiled: CompiledProcess, script_engine: Any) -> Any:
    """The live workflow of a stored case, its spec from the compiled process of its version."""
    return load_state(instance.state, compiled.spec, compiled.subprocess_specs, script_engine)


def find_task(workflow: Any, task_id: str) -> Any | None:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:  # SpiffWorkflow raises its own "not found" error; a bad id is one too
        return None


def ready_task(workflow: Any, task_id: str) -> Any:
    """The task, if it is READY: SpiffWorkflow's `task.run()` does not check the state."""
    task = find_task(workflow, task_id)
    if task is None or task.state != TaskState.READY:
        raise Conflict(f"task {task_id} is no longer ready")
    return task


def run_user_task(task: Any, data: dict[str, Any], title: str) -> None:
    """Complete a READY user task with the accepted form data (its postscript runs here)."""
    task.data.update(data)
    try:
        task.run()
    except Exception as exc:  # postscripts are process code: any failure is the process's
        raise WorkflowFailed(f"{title}: {exc}") from exc


def run_engine_steps(workflow: Any, notifier: Notifier | None = None) -> None:
    try:
        workflow.do_engine_steps(did_complete_task=notifier.task_completed if notifier else None)
    except (SandboxViolation, SandboxTimeout) as exc:
        raise WorkflowFailed(f"refused by the sandbox: {exc}") from exc
    except SpiffWorkflowException as exc:
        raise WorkflowFailed(_describe(exc)) from exc
    except EngineError:
        raise
    except Exception as exc:  # e.g. a service task: the process's fault, not ours
        raise WorkflowFailed(f"{type(exc).__name__}: {exc}") from exc


def fire_timers(workflow: Any, notifier: Notifier | None) -> None:
    """Let the waiting timers that are due fire, then run what follows them."""
    workflow.refresh_timers()
    run_engine_steps(workflow, notifier)


def _describe(exc: SpiffWorkflowException) -> str:
    task = getattr(exc, "task", None)
    where = ""
    if task is not None:
        spec = task.task_spec
        where = f"{spec.bpmn_name or spec.bpmn_id or spec.name} ({spec.bpmn_id or spec.name}): "
    notes = "; ".join(getattr(exc, "__notes__", []) or [])
    return f"{where}{failure_text(exc)}" + (f" [{notes}]" if notes else "")


def failure_text(exc: BaseException) -> str:
    """What went wrong, for people: SpiffWorkflow's "Error evaluating expression 'x'" with
    the error it caught (`NameError: name 'result' is not defined`), shortened."""
    text = str(exc)
    if len(text) > 300:  # SpiffWorkflow quotes the whole expression
        text = text[:200] + " … " + text[-60:]
    cause = exc.__cause__ or exc.__context__  # SpiffWorkflow raises its own inside `except`
    if isinstance(cause, (SandboxViolation, SandboxTimeout)):
        text += f" Refused by the sandbox: {cause}"
    elif cause is not None and str(cause) and str(cause) not in text:
        text = f"{text.rstrip('. ')}: {type(cause).__name__}: {cause}"
    return text


# --- messages --------------------------------------------------------------------------------


def waiting_message(workflow: Any, name: str) -> Any | None:
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


def deliver_message(workflow: Any, name: str, payload: Any, correlations: dict[str, Any]) -> bool:
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
    except Exception as exc:  # correlation expressions are process code
        raise WorkflowFailed(f"message '{name}': {exc}") from exc
    return True


# --- how a workflow stands -------------------------------------------------------------------


def waiting_tasks(workflow: Any) -> Iterator[Any]:
    """The tasks that are READY or WAITING: what the projection is made of."""
    return iter(workflow.get_tasks(state=TaskState.READY | TaskState.WAITING))


def is_ready(task: Any) -> bool:
    return bool(task.state == TaskState.READY)


def reached_end_event(workflow: Any) -> Any | None:
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


def tree_depth(task: Any) -> int:
    """The task's depth as SpiffWorkflow's walk counts it: subprocess trees hang below their
    call activity or subprocess task."""
    depth: int = task.depth
    workflow = task.workflow
    while getattr(workflow, "parent_task_id", None) is not None:
        parent = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if parent is None:
            break
        depth += parent.depth + 1
        workflow = parent.workflow
    return depth


def out_of_reach(workflow: Any) -> Any | None:
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
        and tree_depth(task) >= _SUSPECT_DEPTH
    ]
    if not deep:
        return None
    reached = {task.id for task in workflow.get_tasks(state=_ACTIVE)}
    return next((task for task in deep if task.id not in reached), None)


def ending(workflow: Any) -> tuple[str, str | None, str | None] | None:
    """How this step ended the workflow, or None while it runs:
    (`completed`, end event id, its name) at an end event; (`error`, None, why) when a task
    lies beyond the tree walk (it could never run) or it stopped without an end event."""
    stuck = out_of_reach(workflow)
    if stuck is not None:
        spec = stuck.task_spec
        return (
            "error",
            None,
            f"stopped before '{spec.bpmn_id or spec.name}': the case went round its loops "
            f"too often for SpiffWorkflow, which runs no task deeper than "
            f"{TREE_WALK_DEPTH:,} steps in its task tree; it cannot continue",
        )
    if not workflow.is_completed():
        return None
    end = reached_end_event(workflow)
    if end is None:
        last = workflow.last_task.task_spec if workflow.last_task is not None else None
        if last is not None and not last.outputs:
            why = (
                f"the case stopped after '{last.bpmn_id or last.name}' without reaching an end "
                "event: no sequence flow leads on from it (a case is done only at an end event)"
            )
        else:
            why = (
                "the case stopped without reaching an end event (SpiffWorkflow's walk of its "
                "task tree may have stopped: a loop that went round too often)"
            )
        return "error", None, why
    end_id = end.bpmn_id or end.name
    return "completed", end_id, end.bpmn_name or end_id


def case_data(workflow: Any, waiting: list[Any]) -> dict[str, Any]:
    """The data a person sees for the case: that of its open tasks and waiting timers
    (`waiting`), else of the last completed task.

    Parallel branches each carry their own copy (e.g. the supervision branch knows
    `overdue` and `escalation_level` while the rectify task does not), so the branches are
    merged, the one that changed last winning where they disagree. Inside a multi-instance
    the first instance stands for the case (see `definitions.PrincipalMultiInstance`): a task
    of another instance gives the data of its multi-instance task instead (the case as the
    instances began), under the first's; the multi-instance's collection shows each running
    instance's item (its output item, else its input item) as that instance has it now."""
    data = workflow.last_task.data if workflow.last_task else workflow.data
    if waiting:
        data = _merged(waiting)
    elif workflow.is_completed():  # at an end event; else cut short (see out_of_reach)
        for task in workflow.get_tasks(state=TaskState.COMPLETED):
            if isinstance(task.task_spec, EndEvent) and task.workflow is workflow:
                data = {**workflow.data, **task.data}
    clean = {k: v for k, v in data.items() if not k.startswith("_") and k != "data_objects"}
    result: dict[str, Any] = json.loads(json.dumps(clean, default=str, ensure_ascii=False))
    return result


def _enclosing(task: Any) -> list[tuple[Any, Any]]:
    """(multi-instance task, the instance's task holding `task`) for each multi-instance
    around `task`, innermost first; subprocesses are walked through to their parents."""
    found = []
    current, workflow = task, task.workflow
    while current is not None:
        parent = current.parent
        spec = getattr(parent, "task_spec", None)
        # an instance, not the task after the multi-instance (a child of it too)
        if isinstance(spec, MultiInstanceTask) and current.task_spec.name == spec.task_spec:
            found.append((parent, current))
        if parent is None:  # the root of a subprocess: on from the task that holds it
            parent_id = getattr(workflow, "parent_task_id", None)
            if parent_id is None:
                break
            current = workflow.top_workflow.get_task_from_id(parent_id)
            workflow = current.workflow if current is not None else workflow
        else:
            current = parent
    return found


def _merged(waiting: list[Any]) -> dict[str, Any]:
    """The waiting tasks' data merged for the case (see `case_data`)."""
    stand_ins: dict[Any, Any] = {}
    own: list[Any] = []
    running: dict[Any, Any] = {}
    items: dict[Any, dict[Any, tuple[Any, Any]]] = {}  # multi-instance -> key -> (at, item)
    for task in waiting:
        chain = _enclosing(task)
        others = [
            mi for mi, held in chain if held.internal_data.get("key_or_index") not in (0, None)
        ]
        if others:
            stand_ins[others[-1].id] = others[-1]
        else:
            own.append(task)
        for mi, held in chain:
            running[mi.id] = mi
            key = held.internal_data.get("key_or_index")
            names = [d.bpmn_id for d in (mi.task_spec.output_item, mi.task_spec.input_item) if d]
            name = next((n for n in names if n in task.data), None)
            if key is None or name is None:
                continue
            known = items.setdefault(mi.id, {}).get(key)
            if known is None or known[0] < task.last_state_change:
                items[mi.id][key] = (task.last_state_change, task.data[name])
    data: dict[str, Any] = {}
    ordered = sorted(stand_ins.values(), key=lambda t: t.last_state_change)
    for task in [*ordered, *sorted(own, key=lambda t: t.last_state_change)]:
        data.update(task.data)
    for mi in running.values():  # its collection, each running instance's item as it stands
        spec = mi.task_spec
        for local in (spec.input_item, spec.output_item):  # an instance's own, not the case's
            if local is not None:
                data.pop(local.bpmn_id, None)
        output = spec.data_output
        if output is None or output.bpmn_id not in mi.data:
            continue
        collection = deepcopy(mi.data[output.bpmn_id])
        for key, (_at, item) in items.get(mi.id, {}).items():
            if isinstance(collection, dict) or (isinstance(key, int) and key < len(collection)):
                collection[key] = item
        data[output.bpmn_id] = collection
    return data
