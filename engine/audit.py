"""Append-only, hash-chained audit events. Editing or deleting a row breaks the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead, Instance

GENESIS = "0" * 64
AUDIT_EVENTS = cast(Table, AuditEvent.__table__)
# session.info key: (case id, action, task or end event name) of each case event this
# transaction recorded, so that the step's writers (engine/exchange.py) know what it did
STEP_ACTIONS = "case_actions"


def digest(prev_hash: str, event: AuditEvent) -> str:
    """The hash of an event after `prev_hash` (the chain's previous event's, or GENESIS)."""
    body = json.dumps(
        [
            event.chain,
            event.seq,
            event.at.isoformat(timespec="microseconds"),
            event.actor,
            event.action,
            event.task_id,
            event.task_name,
            event.title,
            event.changes,
            event.comment,
        ],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def append(
    session: Session,
    chain: str,
    head: tuple[int, str],
    *,
    at: datetime,
    actor: str | None,
    action: str,
    instance_id: int | None = None,
    task_id: str | None = None,
    task_name: str | None = None,
    title: str | None = None,
    changes: dict[str, Any] | None = None,
    comment: str | None = None,
) -> tuple[int, str]:
    """Add one event after `head` (seq, hash) and return the new head."""
    seq, prev = head
    event = AuditEvent(
        chain=chain,
        seq=seq + 1,
        instance_id=instance_id,
        at=at.replace(microsecond=at.microsecond),
        actor=actor,
        action=action,
        task_id=task_id,
        task_name=task_name,
        title=title,
        changes=changes,
        comment=comment,
        prev_hash=prev,
    )
    event.hash = digest(prev, event)
    # A Core insert: events are never read back in the command that writes them.
    values = {c.key: getattr(event, c.key) for c in AUDIT_EVENTS.c if c.key != "id"}
    session.connection().execute(insert(AUDIT_EVENTS), values)
    return seq + 1, event.hash


def record(
    session: Session,
    instance: Instance,
    actor: str | None,
    at: datetime,
    action: str,
    **fields: Any,
) -> None:
    """Append an event to the case's own chain, whose head lives on its row (so a command
    updates the head in the same UPDATE as the state)."""
    session.info.setdefault(STEP_ACTIONS, []).append((instance.id, action, fields.get("task_name")))
    instance.audit_seq, instance.audit_head = append(
        session,
        f"instance:{instance.id}",
        (instance.audit_seq, instance.audit_head),
        at=at,
        actor=actor,
        action=action,
        instance_id=instance.id,
        **fields,
    )


def chain_head(session: Session, chain: str) -> tuple[int, str]:
    """The head of a chain kept in `audit_heads` (deployments, a user's), its row locked
    until the command ends: two commands appending to one chain at once queue, so that the
    second appends after the first (unlocked, both would write event #n+1, and one of them
    would fail on the unique (chain, seq)). A new chain's head row is made first, at #0."""
    table = cast(Table, AuditHead.__table__)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    new = insert(table).values(chain=chain, seq=0, hash=GENESIS)
    session.connection().execute(new.on_conflict_do_nothing(index_elements=["chain"]))
    head = session.get(AuditHead, chain, with_for_update=True, populate_existing=True)
    assert head is not None  # made above, and head rows are never deleted
    return head.seq, head.hash


def store_head(session: Session, chain: str, head: tuple[int, str]) -> None:
    """The chain's new head, after `chain_head` (which locked its row) and `append`."""
    row = session.get(AuditHead, chain)
    assert row is not None, "store_head after chain_head"
    row.seq, row.hash = head


@dataclass
class VerifyResult:
    events: int
    chains: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> VerifyResult:
    """Recompute every chain; report any changed, inserted or deleted event."""
    problems: list[str] = []
    heads = {h.chain: (h.seq, h.hash) for h in session.scalars(select(AuditHead))}
    for iid, seq, head in session.execute(
        select(Instance.id, Instance.audit_seq, Instance.audit_head)
    ):
        heads[f"instance:{iid}"] = (seq, head)
    count = 0
    current: str | None = None
    prev, expected_seq = GENESIS, 1
    seen: set[str] = set()

    def close(chain: str, seq: int, last_hash: str) -> None:
        head = heads.get(chain)
        if head is None:
            problems.append(f"{chain}: no head recorded")
        elif head != (seq, last_hash):
            problems.append(f"{chain}: events after #{seq} are missing (head is #{head[0]})")

    stmt = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)
    for event in session.scalars(stmt).yield_per(1000):
        count += 1
        if event.chain != current:
            if current is not None:
                close(current, expected_seq - 1, prev)
            current, prev, expected_seq = event.chain, GENESIS, 1
            seen.add(event.chain)
        if event.seq != expected_seq:
            problems.append(f"{event.chain}: event #{expected_seq} is missing")
            expected_seq = event.seq
        if event.prev_hash != prev or digest(prev, event) != event.hash:
            problems.append(f"{event.chain}: event #{event.seq} (id {event.id}) was changed")
        prev, expected_seq = event.hash, expected_seq + 1
    if current is not None:
        close(current, expected_seq - 1, prev)
    for chain in heads.keys() - seen:
        if heads[chain][0] > 0:
            problems.append(f"{chain}: all events are missing")
    return VerifyResult(count, len(seen), problems)
