"""A person's inbox: their notifications newest first with the unread count, marking them
read, and a notification a command sends one person (the ones processes declare are
written by `notify`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from .models import Instance, Notification
from .records import Inbox, NotificationRecord


def notifications(
    session: Session, username: str, unread_only: bool, limit: int, offset: int
) -> Inbox:
    mine = Notification.username == username
    unread = session.scalar(select(func.count()).where(mine, Notification.read_at.is_(None)))
    stmt = (
        select(Notification, Instance.number)
        .outerjoin(Instance, Instance.id == Notification.instance_id)
        .where(mine)
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.order_by(Notification.id.desc()).limit(limit).offset(offset)
    items: list[NotificationRecord] = [
        {
            "id": n.id,
            "kind": n.kind,
            "text": n.text,
            "instance_id": n.instance_id,
            "case_number": number,
            "task_id": n.task_id,
            "created_at": n.created_at.isoformat(),
            "read": n.read_at is not None,
        }
        for n, number in session.execute(stmt)
    ]
    return {"unread": unread or 0, "items": items}


def unread_count(session: Session, username: str, cap: int) -> int:
    """How many of the person's notifications are unread, counted up to `cap` (a badge says
    "99+"): the header asks on every page, and someone who never reads them has thousands."""
    unread = (
        select(Notification.id)
        .where(Notification.username == username, Notification.read_at.is_(None))
        .limit(cap)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(unread)) or 0


def mark_read(session: Session, username: str, ids: list[int] | None, now: datetime) -> int:
    """Returns how many were unread; `ids` None means all of them."""
    stmt = (
        update(Notification)
        .where(Notification.username == username, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]
    return result.rowcount


def send(
    session: Session,
    username: str,
    kind: str,
    text: str,
    now: datetime,
    instance_id: int | None = None,
    task_id: str | None = None,
) -> None:
    session.add(
        Notification(
            username=username,
            kind=kind,
            instance_id=instance_id,
            task_id=task_id,
            created_at=now,
            text=text,
        )
    )
