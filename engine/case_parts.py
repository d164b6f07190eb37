"""The 考核 projection's writer: after each step, the case's department parts (`case_parts`)
as the step left them, by the rules of config `stats` (engine/stats_rules.py).

A part is the data of one department's tasks (a jointly handled case has one per
department; every copy carries its `department`): the tasks the case now waits on, and the
one just completed. A part exists once it has been dispatched. The step's own meaning (a
rectification reported, a return, a rework, an approved extension) comes from the completed
task and what was submitted with it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .calendar import WorkingCalendar
from .clock import parse_iso
from .models import CasePart, Instance, PartEscalation
from .stats_rules import StatsRules
from .stats_totals import Totals, case_contribution, contribution, escalation, part_key


@dataclass(frozen=True)
class CompletedStep:
    """A human task the step completed: its element id, its data afterwards, what was sent."""

    task_name: str
    data: Mapping[str, Any]
    submitted: Mapping[str, Any]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def _level(rules: StatsRules, data: Mapping[str, Any]) -> int | None:
    """The supervision level a part's data shows: none until it is overdue."""
    if not data.get(rules.overdue):
        return None
    value = data.get(rules.level)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def part_data(
    rules: StatsRules, completed: CompletedStep | None, waiting: list[Any]
) -> dict[str, dict[str, Any]]:
    """Each department's data: its copies merged, the one changed last winning."""
    parts: dict[str, dict[str, Any]] = {}
    sources: list[Mapping[str, Any]] = [completed.data] if completed else []
    sources += [t.data for t in sorted(waiting, key=lambda t: t.last_state_change)]
    for data in sources:
        department = data.get(rules.department)
        if isinstance(department, str) and department:
            parts.setdefault(department, {}).update(data)
    return parts


def write(
    session: Session,
    instance: Instance,
    rules: StatsRules,
    calendar: Callable[[], WorkingCalendar],
    completed: CompletedStep | None,
    waiting: list[Any],
    now: datetime,
    totals: Totals,
) -> None:
    """The case's parts as the step left them; what that changed in the per-day totals goes
    into `totals` (the caller writes them)."""
    existing = {
        p.department: p
        for p in session.scalars(select(CasePart).where(CasePart.instance_id == instance.id))
    }
    before = {d: (part_key(p), contribution(p)) for d, p in existing.items()}
    case_before = case_contribution(list(existing.values()))
    case = instance.data or {}
    major_field, major_value = rules.major
    for department, data in part_data(rules, completed, waiting).items():
        dispatched = _time(data.get(rules.dispatched_at))
        part = existing.get(department)
        if dispatched is None and part is None:
            continue  # proposed for dispatch, not dispatched yet
        if part is None:
            part = CasePart(
                instance_id=instance.id,
                department=department,
                process_id=instance.process_id,
                received_at=instance.created_at,
                returns=0,
                reworks=0,
                extensions=0,
            )
            session.add(part)
            existing[department] = part
        part.role = str(data.get(rules.role) or "lead")
        part.grid = case.get(rules.grid) or data.get(rules.grid)
        part.category = case.get(rules.category) or data.get(rules.category)
        part.major = (case.get(major_field, data.get(major_field))) == major_value
        if dispatched is not None:
            part.dispatched_at = dispatched
            if part.returned_at is not None and dispatched > part.returned_at:
                part.returned_at = None  # dispatched to it again
        due = _time(data.get(rules.deadline))
        if due is not None:
            part.due_at = due
        level = _level(rules, data)
        if level is not None and (part.level is None or level > part.level):
            reached = -1 if part.level is None else part.level
            for new_level in range(reached + 1, level + 1):  # each level once, when reached
                session.add(
                    PartEscalation(
                        instance_id=instance.id,
                        department=department,
                        level=new_level,
                        at=now,
                        process_id=part.process_id,
                        grid=part.grid,
                    )
                )
                totals.add(*escalation(part.process_id, department, part.grid, new_level, now))
            part.level = level
    if completed is not None:
        _count_step(rules, calendar, completed, existing, now)
    running = instance.status == "running"
    for department, part in existing.items():
        part.open = running
        if department in before:
            totals.add(*before[department], sign=-1)
        totals.add(part_key(part), contribution(part))
    if case_before is not None:
        totals.add(*case_before, sign=-1)
    case_after = case_contribution(list(existing.values()))
    if case_after is not None:
        totals.add(*case_after)


def _count_step(
    rules: StatsRules,
    calendar: Callable[[], WorkingCalendar],
    completed: CompletedStep,
    parts: dict[str, CasePart],
    now: datetime,
) -> None:
    part = parts.get(str(completed.data.get(rules.department) or ""))
    if part is None:
        return
    name, sent = completed.task_name, completed.submitted
    if rules.rectified.matches(name, sent):
        part.rectified_at = now
        part.on_time = part.due_at is None or now <= part.due_at
        if part.dispatched_at is not None:
            part.working_days = calendar().working_days_between(part.dispatched_at, now)
    if rules.returned is not None and rules.returned.matches(name, sent):
        part.returned_at = now
        part.returns += 1
    if rules.reworked is not None and rules.reworked.matches(name, sent):
        part.reworks += 1  # not rectified until the department reports again
        part.rectified_at = part.on_time = part.working_days = None
    if rules.extended is not None and rules.extended.matches(name, sent):
        part.extensions += 1
