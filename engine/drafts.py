"""Drafts: a half-filled task form kept per task and person until the task is done (the row
goes with its open task)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import Draft
from .records import DraftRecord


def save(
    session: Session, task_id: str, username: str, data: dict[str, Any], now: datetime
) -> None:
    draft = session.get(Draft, (task_id, username))
    if draft is None:
        session.add(Draft(task_id=task_id, username=username, data=data, saved_at=now))
    else:
        draft.data, draft.saved_at = data, now


def get(session: Session, task_id: str, username: str) -> DraftRecord | None:
    draft = session.get(Draft, (task_id, username))
    if draft is None:
        return None
    return {"data": dict(draft.data), "saved_at": draft.saved_at.isoformat()}
