"""SpiffWorkflow timer events that read the engine clock instead of the system time.

SpiffWorkflow 3.2's timer definitions call ``datetime.now(timezone.utc)`` themselves, both to
compute when a duration timer fires and to decide that it has fired. These subclasses ask the
workflow's script engine (ours, which owns the clock) instead. The parser mixin swaps them in
for the stock classes, and the serializer registers them under their own names.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from .clock import parse_iso


def _now(my_task: Any) -> datetime:
    engine = my_task.workflow.script_engine
    return engine.now() if hasattr(engine, "now") else datetime.now().astimezone()


def _as_datetime(value: str) -> datetime:
    # SpiffWorkflow reads a literal without offset in the server's local time; we read it as
    # UTC so that the result does not depend on where the server runs (documented for authors).
    return parse_iso(value)


class ClockTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if isinstance(event_value, datetime):
                event_value = event_value.isoformat()
            my_task._set_internal_data(event_value=event_value)
        if _as_datetime(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            start = _now(my_task)
            delta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
            event_value = (start + delta).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if _as_datetime(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockCycle(CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Any) -> bool:
        now = _now(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            event_value = _parse_cycle(expression, now)
        ready = False
        if event_value["cycles"] != 0:
            next_event = parse_iso(event_value["next"])
            if next_event <= now:
                # One firing per check, however many periods were missed: catch-up after
                # downtime must not fire once per missed period.
                period = timedelta(seconds=event_value["duration"])
                while next_event <= now:
                    next_event += period
                event_value["next"] = next_event.isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


def _parse_cycle(expression: str, now: datetime) -> dict[str, Any]:
    components = expression.upper().replace("--", "/").strip("R").split("/")
    cycles = int(components[0]) if components[0] else -1
    first = TimerEventDefinition.parse_time_or_duration(components[1])
    second = (
        TimerEventDefinition.parse_time_or_duration(components[2]) if len(components) == 3 else None
    )
    if isinstance(first, datetime):
        start, duration = first, TimerEventDefinition.get_timedelta_from_start(second, first)
    elif isinstance(second, datetime):
        duration = TimerEventDefinition.get_timedelta_from_end(first, second)
        start = second - duration
    elif second is None:
        duration = TimerEventDefinition.get_timedelta_from_start(first, now)
        start = now + duration
    else:
        raise ValueError(f"invalid recurring interval {expression!r}")
    return {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}


CLOCK_TIMER_CLASSES: dict[type, type] = {
    TimeDateEventDefinition: ClockTimeDate,
    DurationTimerEventDefinition: ClockDuration,
    CycleTimerEventDefinition: ClockCycle,
}


class ClockTimerParserMixin:
    """Mixed into SpiffWorkflow's event parsers: timers they build use the engine clock."""

    def parse_timer_event(self, event: Any) -> TimerEventDefinition:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        definition.__class__ = CLOCK_TIMER_CLASSES.get(type(definition), type(definition))
        return definition


def fire_time(my_task: Any) -> datetime | None:
    """When a waiting timer task will fire, from what its definition stored on the task."""
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        return None
    if isinstance(event_value, dict):
        return parse_iso(event_value["next"]) if event_value.get("cycles", 0) != 0 else None
    return parse_iso(event_value)
