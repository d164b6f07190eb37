"""Cases as records for other systems (the records API, the feed, webhook payloads): the
fields config.yaml's `records.<process>` names, each from a source:

- `data.<field>` (`data.plan.funds` inside an object): the case data;
- `photos.<field>`: the photos a photo field names, as `{id, url}`;
- `case.<column>`: the case row (id, number, process_id, status, end_event, created_by,
  created_at, updated_at, completed_at);
- `task.<task>.actor|at|comment`: who last completed that user task, when, with what comment;
- `end.<end event>.at`: when the case closed at that end event.

A page of records costs two queries whatever its length: the case rows (their data, never
the workflow state) and the completions its `task.` sources need, from the audit events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from .models import AuditEvent, Instance
from .records import HazardRecord, PhotoRef

CASE_COLUMNS = (
    "id",
    "number",
    "process_id",
    "status",
    "end_event",
    "created_by",
    "created_at",
    "updated_at",
    "completed_at",
)
TASK_PARTS = ("actor", "at", "comment")
PHOTO_URL = "/api/v1/photos/{}"


class MappingError(ValueError):
    """config.yaml's `records` names a source this module does not know."""


def check_mapping(records: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, list[str]]]:
    """process -> record field -> its source split at the dots; MappingError naming it."""
    checked: dict[str, dict[str, list[str]]] = {}
    for process, fields in records.items():
        for name, source in fields.items():
            parts = str(source).split(".")
            kind = parts[0]
            ok = (
                (kind in ("data", "photos") and len(parts) >= 2)
                or (kind == "case" and len(parts) == 2 and parts[1] in CASE_COLUMNS)
                or (kind == "task" and len(parts) == 3 and parts[2] in TASK_PARTS)
                or (kind == "end" and len(parts) == 3 and parts[2] == "at")
            )
            if not ok or not all(parts):
                raise MappingError(f"records.{process}.{name}: '{source}' is not a known source")
            checked.setdefault(process, {})[name] = parts
    return checked


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _data(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


class Records:
    """The configured mapping, and the records it makes of case rows."""

    def __init__(self, records: Mapping[str, Mapping[str, str]]) -> None:
        self.mapping = check_mapping(records)

    @property
    def processes(self) -> list[str]:
        return sorted(self.mapping)

    def _tasks_needed(self, process_ids: Iterable[str]) -> set[str]:
        return {
            parts[1]
            for p in set(process_ids)
            for parts in self.mapping.get(p, {}).values()
            if parts[0] == "task"
        }

    def of(self, session: Session, cases: Sequence[Instance]) -> list[HazardRecord]:
        """The records of these cases, in their order: one query for all their completions."""
        tasks = self._tasks_needed(c.process_id for c in cases)
        done: dict[tuple[int, str], dict[str, Any]] = {}
        if tasks and cases:
            rows = session.execute(
                select(
                    AuditEvent.instance_id,
                    AuditEvent.task_name,
                    AuditEvent.actor,
                    AuditEvent.at,
                    AuditEvent.comment,
                )
                .where(
                    AuditEvent.instance_id.in_([c.id for c in cases]),
                    AuditEvent.action == "complete",
                    AuditEvent.task_name.in_(sorted(tasks)),
                )
                .order_by(AuditEvent.instance_id, AuditEvent.seq)
            )
            for iid, task, actor, at, comment in rows:  # the last completion wins
                done[(int(iid or 0), str(task))] = {
                    "actor": actor,
                    "at": _iso(at),
                    "comment": comment,
                }
        return [self._record(case, done) for case in cases]

    def _record(self, case: Instance, done: Mapping[tuple[int, str], Any]) -> HazardRecord:
        data = case.data or {}
        fields: dict[str, Any] = {}
        for name, parts in self.mapping.get(case.process_id, {}).items():
            kind = parts[0]
            if kind == "data":
                fields[name] = _data(data, parts[1:])
            elif kind == "photos":
                ids = _data(data, parts[1:])
                ids = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
                fields[name] = [PhotoRef(id=i, url=PHOTO_URL.format(i)) for i in ids]
            elif kind == "case":
                fields[name] = _iso(getattr(case, parts[1]))
            elif kind == "task":
                fields[name] = (done.get((case.id, parts[1])) or {}).get(parts[2])
            elif kind == "end":
                closed = case.end_event == parts[1] and case.completed_at is not None
                fields[name] = _iso(case.completed_at) if closed else None
        return {
            "id": case.id,
            "number": case.number or "",
            "process_id": case.process_id,
            "status": case.status,
            "updated_at": case.updated_at.isoformat(),
            "fields": fields,
        }

    def by_ids(self, session: Session, ids: Sequence[int]) -> dict[int, HazardRecord]:
        """id -> record, for the cases of these ids (one query for the rows)."""
        rows = session.scalars(
            select(Instance).options(defer(Instance.state)).where(Instance.id.in_(ids))
        ).all()
        return {r["id"]: r for r in self.of(session, rows)}
