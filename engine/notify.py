"""Inbox notifications declared in the process files, not in code.

A flow node with the extension property `notify` (a kind: assignment, reminder, supervision,
return, ...) notifies people: a user task when it opens, any other node when it completes.
`notify_to` (an expression of group keys; default: the user task's candidates) says who,
`notify_text` (an expression; default: the element's name) says what.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import Grid, Notification, User, UserRole


@dataclass(frozen=True)
class NotifyInfo:
    kind: str
    to: str | None  # expression -> group keys
    text: str | None  # expression -> message


@dataclass
class Notifier:
    """Collects the notifications of one command; written with its transaction."""

    specs: dict[str, NotifyInfo]
    evaluate: Callable[[Any, str], Any]
    pending: list[tuple[str, str, frozenset[str], str]] = field(default_factory=list)

    def task_completed(self, task: Any) -> None:
        info = self.specs.get(task.task_spec.name)
        if info and not getattr(task.task_spec, "manual", False):
            self._add(task, info, ())

    def task_opened(self, task: Any, candidates: Iterable[str]) -> None:
        info = self.specs.get(task.task_spec.name)
        if info:
            self._add(task, info, candidates)

    def _add(self, task: Any, info: NotifyInfo, default_to: Iterable[str]) -> None:
        groups = self.evaluate(task, info.to) if info.to else list(default_to)
        if isinstance(groups, str):
            groups = [groups]
        text = self.evaluate(task, info.text) if info.text else None
        spec = task.task_spec
        text = str(text or spec.bpmn_name or spec.bpmn_id or spec.name)
        self.pending.append((info.kind, str(task.id), frozenset(map(str, groups or [])), text))

    def write(self, session: Session, instance_id: int, now: datetime) -> None:
        rows = []
        for kind, task_id, groups, text in self.pending:
            for username in sorted(members(session, groups)):
                rows.append(
                    {
                        "username": username,
                        "kind": kind,
                        "text": text,
                        "instance_id": instance_id,
                        "task_id": task_id,
                        "created_at": now,
                    }
                )
        if rows:
            session.execute(insert(Notification), rows)
        self.pending.clear()


def members(session: Session, groups: Iterable[str]) -> set[str]:
    """The active users in any of the group keys (user:, role:, dept:, leader:)."""
    by_kind: dict[str, list[str]] = {}
    for group in groups:
        kind, _, value = group.partition(":")
        by_kind.setdefault(kind, []).append(value)
    found: set[str] = set(by_kind.get("user", []))
    if by_kind.get("role"):
        found.update(
            session.scalars(select(UserRole.username).where(UserRole.role.in_(by_kind["role"])))
        )
    if by_kind.get("dept"):
        found.update(
            session.scalars(select(User.username).where(User.department.in_(by_kind["dept"])))
        )
    if by_kind.get("leader"):
        found.update(
            leader
            for leader in session.scalars(
                select(Grid.leader).where(Grid.code.in_(by_kind["leader"]))
            )
            if leader
        )
    if not found:
        return found
    active = session.scalars(
        select(User.username).where(User.username.in_(sorted(found)), User.active.is_(True))
    )
    return set(active)
