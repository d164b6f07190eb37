"""Reading the records API: a page of records, one record, and the change feed, each only
of the cases the reader may see (the one rule of `visibility`, as the case list).

The feed's cursor is opaque to readers: the number of the last change it passed, which the
counter row of engine/exchange.py hands out in commit order, so "after n" never skips a step
committed late and never gives one twice. Changes of cases the reader may not see are passed
over, not shown: a page that ends before its limit moves the cursor to the newest change
there was when the read began (read first: every change up to it has committed, so a change
committed meanwhile is not jumped over).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from .case_index import CaseIndex
from .case_list import CaseQuery, _status, conditions
from .errors import FieldError, FormInvalid, NotFound
from .hazard_records import Records
from .models import CaseChange, Instance
from .org import Actor
from .records import FeedPage, HazardPage, HazardRecord
from .visibility import Visibility

CURSOR_PREFIX = "c1:"
MAX_LIMIT = 500


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The change number a cursor stands for (0: from the first); FormInvalid naming `since`."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(CURSOR_PREFIX) and text[len(CURSOR_PREFIX) :].isdigit():
            return int(text[len(CURSOR_PREFIX) :])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    reason = FieldError("cursor", "不是本接口给出的游标 (not a cursor this feed gave)")
    raise FormInvalid("not a cursor of this feed", {"since": reason})


class RecordReader:
    """The three reads, with the mapping, the visibility rule and the search index."""

    def __init__(self, records: Records, rule: Visibility, index: CaseIndex) -> None:
        self.records = records
        self.rule = rule
        self.index = index

    def _where(self, session: Session, actor: Actor, process_id: str | None) -> list[Any]:
        found = conditions(session, actor, CaseQuery(process_id=process_id), self.rule, self.index)
        return [*found, Instance.process_id.in_(self.records.processes)]

    def page(
        self,
        session: Session,
        actor: Actor,
        *,
        status: str = "all",
        updated_since: datetime | None = None,
        process_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> HazardPage:
        """Records the actor may see, least recently changed first (id breaks ties)."""
        where = self._where(session, actor, process_id)
        by_status = _status(status)
        if by_status is not None:
            where.append(by_status)
        if updated_since is not None:
            where.append(Instance.updated_at >= updated_since)
        total = session.scalar(select(func.count()).select_from(Instance).where(*where)) or 0
        limit = max(1, min(limit, MAX_LIMIT))
        rows = session.scalars(
            select(Instance)
            .options(defer(Instance.state))
            .where(*where)
            .order_by(Instance.updated_at, Instance.id)
            .limit(limit)
            .offset(max(0, offset))
        ).all()
        return {
            "items": self.records.of(session, rows),
            "total": total,
            "limit": limit,
            "offset": max(0, offset),
        }

    def one(self, session: Session, actor: Actor, instance_id: int) -> HazardRecord:
        """One record; NotFound alike for no case and a case the actor may not see."""
        case = session.scalar(
            select(Instance)
            .options(defer(Instance.state))
            .where(Instance.id == instance_id, *self._where(session, actor, None))
        )
        if case is None:
            raise NotFound(f"case {instance_id} not found")
        return self.records.of(session, [case])[0]

    def feed(self, session: Session, actor: Actor, since: str | None, limit: int) -> FeedPage:
        """The changes after the cursor `since`, oldest first, at most `limit`."""
        after = decode_cursor(since)
        limit = max(1, min(limit, MAX_LIMIT))
        # The newest number first: every change up to it has committed (the counter's
        # promise), so if the page ends before `limit`, nothing the reader may see lies
        # between its last row and `newest`, whichever snapshot the next statement reads.
        newest = session.scalar(select(func.coalesce(func.max(CaseChange.seq), 0))) or 0
        rows = session.scalars(
            select(CaseChange)
            .join(Instance, Instance.id == CaseChange.instance_id)
            .where(
                CaseChange.seq > after,
                CaseChange.seq <= newest,
                *self._where(session, actor, None),
            )
            .order_by(CaseChange.seq)
            .limit(limit)
        ).all()
        full = len(rows) == limit
        last = rows[-1].seq if full else max(after, newest)
        records = self.records.by_ids(session, sorted({c.instance_id for c in rows}))
        return {
            "items": [
                {
                    "at": change.at.isoformat(),
                    "actor": change.actor,
                    "actions": change.actions,
                    "events": change.events,
                    "status": change.status,
                    "record": records[change.instance_id],
                }
                for change in rows
            ],
            "next": encode_cursor(last),
            "more": full,
        }
