"""What waits for a supervising leader (挂点领导) besides the tasks escalated to them: the open
cases they are named to supervise (挂牌督办, a major hazard's `supervising_leader` from the
start), found through the indexed case fields, never by reading case data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Instance, InstanceField
from .org import Actor
from .visibility import LEADER_PREFIX


def supervised_case_ids(session: Session, actor: Actor, leader_field: str) -> list[int]:
    """The running cases whose `leader_field` names a grid the actor leads, oldest first."""
    groups = sorted(g for g in actor.groups if g.startswith(LEADER_PREFIX))
    if not groups:
        return []
    stmt = (
        select(Instance.id)
        .join(InstanceField, InstanceField.instance_id == Instance.id)
        .where(
            InstanceField.name == leader_field,
            InstanceField.value.in_(groups),
            Instance.status == "running",
        )
        .order_by(Instance.created_at, Instance.id)
    )
    return list(session.scalars(stmt))
