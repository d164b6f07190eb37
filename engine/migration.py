"""Moving running cases to another version of their process, where SpiffWorkflow's spec diff
(`SpiffWorkflow.bpmn.util.diff`) says every step the case stands on or has passed still exists.

A case keeps its task ids, its data, its claims and its timers' times: a step that waits keeps
waiting (a changed timer keeps the time it was set for; the new definition applies from the
next time it starts), and an open task takes the new definition of its step (title, form,
candidates, deadline). What the diff cannot align is refused, with the step named:

- a step the case has passed, or stands on, or has predicted, that the new version removed
  (its state would name a step the new version does not have);
- a stage (subprocess) the case is inside that the new version removed;
- a step that is running or failed (only settled states move);
- a multi-instance the case is inside (a part per department, processes/README.md §2a) whose
  loop the new version changed: its running instances were made by the old one.

A multi-instance that has made its instances only waits for them (STARTED, doing nothing
itself): it moves with them, as a stage does, each instance's step aligned with it by the diff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .definitions import CompiledProcess
from .errors import FieldError
from .models import Instance, OpenTask
from .projection import OPEN_TASKS, TASK_CANDIDATES, TIMERS, ProjectionWriter, snapshot
from .serialization import SPEC_REGISTRY

SETTLED = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.READY | TaskState.WAITING
PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE
# what of a multi-instance its running instances were made by: the step each instance runs,
# the collections they come from and go back to, and their items' names
LOOP = frozenset(
    ("typename", "task_spec", "cardinality", "data_input", "data_output", "input_item",
     "output_item")
)  # fmt: skip


@dataclass
class MigrationPlan:
    """What moving one case to `to_version` would change, or why it may not move."""

    instance_id: int
    number: str  # the case number people know it by
    from_version: int
    to_version: int
    # each a code with its params (the step: `element`, its name as `title`, `where` inside a
    # stage), so that any language can phrase it, and the English text
    refusals: list[FieldError] = field(default_factory=list)
    changes: list[FieldError] = field(default_factory=list)  # what the case will notice
    # old spec -> new spec, for every spec of the case's workflow and its subworkflows
    alignment: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def safe(self) -> bool:
        return not self.refusals


def _step(spec: Any) -> str:
    name = getattr(spec, "bpmn_name", None)
    element = getattr(spec, "bpmn_id", None) or spec.name
    return f"{element} ({name})" if name else element


def _note(code: str, text: str, where: str, spec: Any, **params: Any) -> FieldError:
    """A refusal or change at the step `spec` (`where`: inside which stage)."""
    element = getattr(spec, "bpmn_id", None) or spec.name
    title = getattr(spec, "bpmn_name", None) or element
    return FieldError(
        code, f"{where}{_step(spec)} {text}", {"where": where, "element": element, "title": title,
                                                **params}
    )  # fmt: skip


def _waits_for_instances(task: Any) -> bool:
    """Whether `task` is a multi-instance that has made its instances and waits for them."""
    return task.state == TaskState.STARTED and isinstance(task.task_spec, MultiInstanceTask)


def _loop_changed(spec: Any, new: Any, old_spec: Any, diff: SpecDiff) -> list[str]:
    """What of a running multi-instance's loop the new version changed (nothing: it may move):
    its instances must find their step and items where the new version looks for them."""
    if not isinstance(new, MultiInstanceTask):
        return ["typename"]
    changed = sorted(LOOP.intersection(diff.changed.get(spec, [])))
    child = diff.alignment.get(old_spec.task_specs.get(spec.task_spec))
    if child is None or child.name != new.task_spec:
        changed = sorted({*changed, "task_spec"})
    return changed


def _plan_workflow(
    plan: MigrationPlan, top: Any, workflow: Any, old_spec: Any, new_spec: Any, where: str
) -> None:
    diff = SpecDiff(SPEC_REGISTRY, old_spec, new_spec)
    plan.alignment.update(diff.alignment)
    changed = diff.changed
    for task in workflow.get_tasks(skip_subprocesses=True):
        spec = task.task_spec
        # a stage, or a multi-instance waiting for its instances
        inside = task.state == TaskState.STARTED and task.id in top.subprocesses
        looping = _waits_for_instances(task)
        if task.state & ~(SETTLED | PREDICTED) and not (inside or looping):
            state = TaskState.get_name(task.state).lower()
            text = f"is {state}: only settled steps move"
            plan.refusals.append(_note("migration_unsettled", text, where, spec, state=state))
            continue
        new = diff.alignment.get(spec)
        if new is None:
            if task.state & PREDICTED:
                text = ", a step the case may still reach, is not in the new version"
                plan.refusals.append(_note("migration_ahead_gone", text, where, spec))
            else:
                text = ", a step the case has passed or stands on, is not in the new version"
                plan.refusals.append(_note("migration_passed_gone", text, where, spec))
            continue
        loop = _loop_changed(spec, new, old_spec, diff) if looping else []
        if loop:
            what = ", ".join(loop)
            text = f"runs an instance per item and the new version changed its loop: {what}"
            plan.refusals.append(_note("migration_loop_changed", text, where, spec, what=what))
            continue
        if new.name != spec.name:
            text = f"becomes {_step(new)}"
            plan.changes.append(_note("migration_renamed", text, where, spec, new=_step(new)))
        if spec in changed and task.state & (TaskState.READY | TaskState.WAITING):
            what = ", ".join(sorted(changed[spec]))
            if task.state == TaskState.WAITING and getattr(spec, "event_definition", None):
                text = f"keeps the time it waits for; changed: {what}"
                plan.changes.append(_note("migration_keeps_time", text, where, spec, what=what))
            else:
                text = f"takes the new definition: {what}"
                plan.changes.append(_note("migration_redefined", text, where, spec, what=what))


def plan(
    workflow: Any,
    instance: Instance,
    old: CompiledProcess,
    new: CompiledProcess,
    from_version: int,
    to_version: int,
) -> MigrationPlan:
    """The plan of moving `workflow` (the case's live workflow) from `old` to `new`."""
    result = MigrationPlan(instance.id, instance.number or "", from_version, to_version)
    if old.process_id != new.process_id:
        text = f"version {to_version} is of another process ({new.process_id})"
        params = {"version": to_version, "process": new.process_id}
        result.refusals.append(FieldError("migration_other_process", text, params))
        return result
    _plan_workflow(result, workflow, workflow, old.spec, new.spec, "")
    for sub in workflow.subprocesses.values():
        name = sub.spec.name
        target = new.subprocess_specs.get(name)
        if target is None:
            text = f"stage {name}, which the case is inside, is not in the new version"
            result.refusals.append(FieldError("migration_stage_gone", text, {"stage": name}))
            continue
        _plan_workflow(result, workflow, sub, sub.spec, target, f"{name}: ")
    return result


def apply(workflow: Any, new: CompiledProcess, migration: MigrationPlan) -> None:
    """Point the workflow and every task at the new version's specs (nothing is reset)."""
    assert migration.safe
    workflow.spec = new.spec
    workflow.subprocess_specs = new.subprocess_specs
    for sub in workflow.subprocesses.values():
        sub.spec = new.subprocess_specs[sub.spec.name]
    for task in workflow.get_tasks():
        task.task_spec = migration.alignment[task.task_spec]


def rewrite_projection(
    session: Session, writer: ProjectionWriter, instance: Instance, workflow: Any
) -> None:
    """Open tasks take their steps' new definitions and keep who claimed them and since when;
    timers keep their times under their steps' new names."""
    now = snapshot(workflow)
    kept = {
        row.id: (row.assignee, row.created_at)
        for row in session.execute(
            select(OpenTask.id, OpenTask.assignee, OpenTask.created_at).where(
                OpenTask.instance_id == instance.id
            )
        )
    }
    conn = session.connection()
    for tid, task in now.tasks.items():
        row, groups = writer.task_row(tid, task)
        assignee, created_at = kept.get(tid, (None, writer.now))
        row.update(assignee=assignee, created_at=created_at)
        row.pop("id")
        conn.execute(update(OPEN_TASKS).where(OPEN_TASKS.c.id == tid).values(**row))
        conn.execute(delete(TASK_CANDIDATES).where(TASK_CANDIDATES.c.task_id == tid))
        if groups:
            conn.execute(
                TASK_CANDIDATES.insert(), [{"task_id": tid, "group_key": g} for g in groups]
            )
    for tid, (_at, task) in now.timers.items():
        conn.execute(
            update(TIMERS)
            .where(TIMERS.c.instance_id == instance.id, TIMERS.c.task_id == tid)
            .values(
                task_name=task.task_spec.bpmn_id or task.task_spec.name,
                title=task.task_spec.bpmn_name,
            )
        )
