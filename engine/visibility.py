"""Who may see which cases: one rule, as a SQL condition on `instances`, shared by the case
page, every list, count and search, so that nothing lists a case its reader could not open.

A reader sees a case when their role oversees all cases (config `cases.viewer_roles`), when
they reported it, may work one of its open tasks or acted on it, and when it lies in a grid
they lead or one below it (a supervising leader sees their area; escalation climbs the same
tree, so every case escalated to a leader is in their area), when their department has or had
a part of it (`case_parts`: dispatched to it), as the 考核 figures count it, and when their
department is one the case lists as informed (抄送, config `cases.informed_field`):
read-only, as they have no task in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select, true
from sqlalchemy.orm import Session

from . import org
from .models import AuditEvent, CasePart, Instance, InstanceField, OpenTask
from .org import Actor
from .tasks import visible_to

LEADER_PREFIX = "leader:"


def indexed_value(value: Any) -> str:
    """How a case value is indexed: as its text; a list (departments informed of a case) as
    its items each between spaces, so that `member` finds one of them with LIKE."""
    if isinstance(value, list):
        return (" " + " ".join(str(v) for v in value) + " ")[:255]
    return str(value)[:255]


def member(item: str) -> str:
    """The LIKE pattern (escape character backslash) of a list value holding `item`."""
    escaped = item.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped} %"


def led_grids(session: Session, actor: Actor) -> list[str]:
    """The grids the actor leads and every grid below them."""
    led = [g[len(LEADER_PREFIX) :] for g in actor.groups if g.startswith(LEADER_PREFIX)]
    area: set[str] = set()
    for code in led:
        area.update(org.grid_and_below(session, code))
    return sorted(area)


@dataclass(frozen=True)
class Visibility:
    """The rule, with its settings: the roles that see all, the case field naming its grid."""

    viewer_roles: frozenset[str]
    grid_field: str
    informed_field: str = ""

    def sees_all(self, actor: Actor) -> bool:
        """Whether the actor's role oversees every case (dispatchers, administrators)."""
        return bool(actor.roles & self.viewer_roles)

    def rule(self, session: Session, actor: Actor) -> Any:
        """The condition on `Instance` under which the actor may see a case."""
        if self.sees_all(actor):
            return true()
        conditions: list[Any] = [
            Instance.created_by == actor.username,
            exists().where(OpenTask.instance_id == Instance.id, visible_to(actor)),
            exists().where(
                AuditEvent.instance_id == Instance.id, AuditEvent.actor == actor.username
            ),
        ]
        if actor.department:  # a department sees every case it has (had) a part of
            conditions.append(
                exists().where(
                    CasePart.instance_id == Instance.id, CasePart.department == actor.department
                )
            )
        if self.informed_field and actor.department:
            conditions.append(
                exists().where(
                    InstanceField.instance_id == Instance.id,
                    InstanceField.name == self.informed_field,
                    InstanceField.value.like(member(actor.department), escape="\\"),
                )
            )
        area = led_grids(session, actor)
        if area:
            conditions.append(
                exists().where(
                    InstanceField.instance_id == Instance.id,
                    InstanceField.name == self.grid_field,
                    InstanceField.value.in_(area),
                )
            )
        return or_(*conditions)

    def may_see(self, session: Session, actor: Actor, instance_id: int) -> bool:
        stmt = select(Instance.id).where(Instance.id == instance_id, self.rule(session, actor))
        return session.scalar(stmt) is not None
