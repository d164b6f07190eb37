"""What the 考核 figures read from a process (config.yaml `stats`, one entry per process id):
the task-data fields that carry a department's part, and the steps that count as its
rectification, its return, a rework and an approved extension. A second process names its
own; a process without an entry has no figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StepRule:
    """The completion of `task`, where its field `field` (if named) was submitted as `value`."""

    task: str
    field: str | None = None
    value: Any = None

    def matches(self, task_name: str | None, submitted: Mapping[str, Any]) -> bool:
        if task_name != self.task:
            return False
        return self.field is None or submitted.get(self.field) == self.value


@dataclass(frozen=True)
class StatsRules:
    """Field names in the data of a part's tasks (a jointly handled case keeps one part per
    department, each with its own copy of these), and the steps that move a part."""

    rectified: StepRule
    returned: StepRule | None = None
    reworked: StepRule | None = None
    extended: StepRule | None = None
    department: str = "department"
    role: str = "part_role"  # "lead" when absent
    grid: str = "grid"
    category: str = "category"
    major: tuple[str, Any] = ("grade", "major")  # field, value of a major hazard (重大隐患)
    dispatched_at: str = "dispatched_at"
    deadline: str = "deadline"
    level: str = "escalation_level"
    # the overdue flag that starts supervision at level 0 (the grid leader), then each
    # escalation adds one
    overdue: str = "overdue"


def _step(raw: Any, where: str) -> StepRule:
    if isinstance(raw, str):
        return StepRule(raw)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("task"), str):
        raise ValueError(f"config stats: {where} needs `task:` (and optionally field/value)")
    return StepRule(raw["task"], raw.get("field"), raw.get("value"))


FIELDS = ("department", "role", "grid", "category", "dispatched_at", "deadline", "level")


def parse_stats(raw: Any) -> dict[str, StatsRules]:
    """The `stats:` section of config.yaml, checked; a mistake names its place."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("config stats: a mapping of process id to its rules")
    found: dict[str, StatsRules] = {}
    for process_id, rules in raw.items():
        if not isinstance(rules, Mapping) or "rectified" not in rules:
            raise ValueError(f"config stats.{process_id}: needs at least `rectified:`")
        steps = {
            name: _step(rules[name], f"{process_id}.{name}")
            for name in ("rectified", "returned", "reworked", "extended")
            if rules.get(name) is not None
        }
        names = {k: str(rules[k]) for k in (*FIELDS, "overdue") if rules.get(k) is not None}
        major = rules.get("major")
        if major is not None:
            if not isinstance(major, Mapping) or "field" not in major:
                raise ValueError(f"config stats.{process_id}.major: {{field: ..., value: ...}}")
            names_major: tuple[str, Any] = (str(major["field"]), major.get("value"))
        else:
            names_major = ("grade", "major")
        found[str(process_id)] = StatsRules(**steps, **names, major=names_major)  # type: ignore[arg-type]
    return found
