"""What a step tells other systems, written in the step's own transaction: one row of the
change feed (`case_changes`) and, for each webhook event the step raised, a delivery row per
active subscription (the outbox `webhook_deliveries`, sent later by engine/webhooks.py).

Why a counter row and not the ids: the feed must never skip a change or give one twice while
steps commit concurrently. On PostgreSQL ids from a sequence are handed out when a row is
inserted, not when it commits, so a reader can see id 8 while id 7 is still uncommitted;
a cursor "after 8" would then miss 7 for ever. Here each step takes its number by
`UPDATE feed_counter SET value = value + 1` as the last thing before its commit: the row lock
makes the next step wait until this one has committed (or rolled back, which gives its
number back), so number n+1 exists only after n is visible, and a reader that sees n has seen
every number below it. We preferred this to a read horizon (`pg_snapshot_xmin`, reading only
rows older than every running transaction): it is the same on SQLite (whose one writer
serializes anyway) and on PostgreSQL, needs no transaction ids in the cursor, and its cost,
the steps of all cases queueing for a moment on one row, is small next to a step (the lock
is held only from the end of the step's writes to its commit).

The events are declared per process in config.yaml (`webhooks.events`), as rules over what
the step did: no task name is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from .audit import STEP_ACTIONS
from .models import CaseChange, FeedCounter, Instance, WebhookDelivery, WebhookSubscription
from .projection import Snapshot

EVENTS = ("started", "dispatched", "overdue", "escalated", "archived")
RULES = ("started", "task_completed", "task_opens", "field_true", "field_rises", "end_event")
# the audit actions that are steps of a case (claims, hand-overs and urges are not)
STEP_KINDS = ("start", "complete", "timer", "message", "end", "migrate")
CASE_CHANGES = cast(Table, CaseChange.__table__)
DELIVERIES = cast(Table, WebhookDelivery.__table__)


class RuleError(ValueError):
    """config.yaml's `webhooks.events` says something this module cannot check."""


def check_rules(events: Mapping[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The event rules of config.yaml, checked: process -> event -> rules."""
    checked: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for process, by_event in (events or {}).items():
        if not isinstance(by_event, Mapping):
            raise RuleError(f"webhooks.events.{process}: give event -> rules")
        for event, rules in by_event.items():
            where = f"webhooks.events.{process}.{event}"
            if not isinstance(rules, list) or not rules:
                raise RuleError(f"{where}: give a list of rules")
            for rule in rules:
                if not isinstance(rule, Mapping) or len(rule) != 1 or next(iter(rule)) not in RULES:
                    raise RuleError(f"{where}: each rule is one of {', '.join(RULES)}")
            checked.setdefault(str(process), {})[str(event)] = [dict(r) for r in rules]
    return checked


@dataclass
class Step:
    """What one step did to a case, as the rules read it."""

    actions: list[tuple[str, str | None]]
    old_data: Mapping[str, Any]
    new_data: Mapping[str, Any]
    opened: set[str]  # names of the tasks the step opened
    end_event: str | None

    def matches(self, rule: Mapping[str, Any]) -> bool:
        kind, value = next(iter(rule.items()))
        names = set(value) if isinstance(value, list) else {value}
        if kind == "started":
            return bool(value) and any(a == "start" for a, _ in self.actions)
        if kind == "task_completed":
            return any(a == "complete" and n in names for a, n in self.actions)
        if kind == "task_opens":
            return bool(self.opened & names)
        if kind == "field_true":
            return any(bool(self.new_data.get(n)) and not self.old_data.get(n) for n in names)
        if kind == "field_rises":
            return any(_rose(self.old_data.get(n), self.new_data.get(n)) for n in names)
        if kind == "end_event":
            return any(a == "end" and n in names for a, n in self.actions)
        return False


def _rose(old: Any, new: Any) -> bool:
    """A number that was a smaller number (a counter set for the first time did not rise)."""

    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    return number(old) and number(new) and new > old


def _task_names(snap: Snapshot) -> dict[str, str]:
    return {tid: t.task_spec.bpmn_id or t.task_spec.name for tid, t in snap.tasks.items()}


class ExchangeWriter:
    """Writes a step's feed row and outbox rows (`write`, called by the runtime's
    `_write_step` after everything else the step writes)."""

    def __init__(self, rules: Mapping[str, Any], payload: Any = None) -> None:
        self.rules = check_rules(rules)
        # (session, instance) -> the case as a webhook payload tells it (engine/hazard_records)
        self.payload = payload

    def write(
        self,
        session: Session,
        instance: Instance,
        old_data: Mapping[str, Any],
        before: Snapshot,
        after: Snapshot,
        actor: str | None,
        now: datetime,
    ) -> None:
        recorded = session.info.get(STEP_ACTIONS, [])
        actions = [(a, n) for i, a, n in recorded if i == instance.id and a in STEP_KINDS]
        session.info[STEP_ACTIONS] = [r for r in recorded if r[0] != instance.id]
        was, now_open = _task_names(before), _task_names(after)
        step = Step(
            actions,
            old_data,
            instance.data or {},
            {name for tid, name in now_open.items() if tid not in was},
            instance.end_event,
        )
        rules = self.rules.get(instance.process_id, {})
        events = [event for event, any_of in rules.items() if any(map(step.matches, any_of))]
        conn = session.connection()
        # the number last, under the counter row's lock, held until the commit (see above)
        seq = conn.execute(
            update(FeedCounter)
            .where(FeedCounter.id == 1)
            .values(value=FeedCounter.value + 1)
            .returning(FeedCounter.value)
        ).scalar_one()
        conn.execute(
            insert(CASE_CHANGES),
            {
                "seq": seq,
                "instance_id": instance.id,
                "at": now,
                "actor": actor,
                "actions": [list(a) for a in actions],
                "events": events,
                "status": instance.status,
            },
        )
        if events:
            self._outbox(session, instance, events, seq, now)

    def _outbox(
        self, session: Session, instance: Instance, events: list[str], seq: int, now: datetime
    ) -> None:
        subscriptions = session.execute(
            select(WebhookSubscription.id, WebhookSubscription.events).where(
                WebhookSubscription.active.is_(True)
            )
        ).all()
        wanted = [(sid, e) for sid, subscribed in subscriptions for e in events if e in subscribed]
        if not wanted:
            return
        case = self.payload(session, instance) if self.payload else {"id": instance.id}
        rows = [
            {
                "subscription_id": sid,
                "event": event,
                "instance_id": instance.id,
                "payload": {
                    "event": event,
                    "change": seq,
                    "occurred_at": now.isoformat(),
                    "case": case,
                },
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for sid, event in wanted
        ]
        session.connection().execute(insert(DELIVERIES), rows)
