"""The `timers` table, read: one row a waiting timer, written with the state by the projection
(SpiffWorkflow's timer definitions themselves are in `spiff_timers`). Which cases have timers
due, batch after batch, whether a case still has one, and the list of all of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from .models import Timer
from .records import WaitingTimer


def due_cases(
    session: Session, now: datetime, limit: int, after: tuple[datetime, int] | None
) -> list[tuple[int, datetime]]:
    """Cases with timers due at `now` as (case id, first due time), the oldest first, after the
    cursor `after` (the last such pair of the previous batch)."""
    first = func.min(Timer.fire_at)
    stmt = (
        select(Timer.instance_id, first.label("first"))
        .where(Timer.fire_at <= now)
        .group_by(Timer.instance_id)
        .order_by(first, Timer.instance_id)
        .limit(limit)
    )
    if after is not None:  # each case once per sweep, even if it keeps failing
        stmt = stmt.having(
            or_(first > after[0], and_(first == after[0], Timer.instance_id > after[1]))
        )
    return [(instance_id, first_at) for instance_id, first_at in session.execute(stmt)]


def has_due(session: Session, instance_id: int, now: datetime) -> bool:
    stmt = select(Timer.id).where(Timer.instance_id == instance_id, Timer.fire_at <= now)
    return session.scalar(stmt.limit(1)) is not None


def waiting(session: Session) -> list[WaitingTimer]:
    """Every waiting timer, the soonest first."""
    return [
        {
            "instance_id": t.instance_id,
            "task_name": t.task_name,
            "title": t.title,
            "fire_at": t.fire_at.isoformat(),
        }
        for t in session.scalars(select(Timer).order_by(Timer.fire_at))
    ]
