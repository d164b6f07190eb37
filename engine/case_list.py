"""The case list: every case a reader may see (the one rule of `visibility`), by status,
with the queue's filters (the configured case fields in `instance_fields`, the report date),
a search (a case number or id names one case; other text is searched in the indexed search
documents, `case_index`), sorted and paged, with the counts by status of what matches.
Nothing here writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, defer

from .case_index import CaseIndex, matching, ref_condition
from .cases import summaries_of, with_stages
from .deployments import CompiledById
from .errors import FieldError, FormInvalid
from .models import Instance, InstanceField, OpenTask
from .org import Actor
from .records import CasePage
from .search_text import query_terms
from .stats import StatFilter
from .visibility import Visibility

STATUSES = ("open", "closed", "all", "running", "completed", "error")
SORTS = {
    "newest": (Instance.created_at.desc(), Instance.id.desc()),
    "oldest": (Instance.created_at, Instance.id),
    "changed": (Instance.updated_at.desc(), Instance.id.desc()),
}
MAX_LIMIT = 500


@dataclass
class CaseQuery:
    """What a case list asks for. `status`: open (running), closed (completed or stopped
    with an error), all, or one status exactly; `q`: a case number or id, or words."""

    status: str = "all"
    q: str = ""
    process_id: str | None = None
    created_by: str | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)  # case field -> allowed values
    created_from: datetime | None = None
    created_to: datetime | None = None
    stat: StatFilter | None = None  # the cases behind one figure of the 考核 page
    sort: str = "newest"  # newest | oldest | changed
    limit: int = 25
    offset: int = 0
    # only cases with an open task whose deadline is before this time (the map's overdue)
    overdue_at: datetime | None = None


def overdue_condition(now: datetime) -> Any:
    """A case is overdue when one of its open tasks is past its deadline."""
    return exists().where(
        OpenTask.instance_id == Instance.id, OpenTask.due_at.is_not(None), OpenTask.due_at < now
    )


def _status(status: str) -> Any:
    if status == "open":
        return Instance.status == "running"
    if status == "closed":
        return Instance.status != "running"
    if status in ("running", "completed", "error"):
        return Instance.status == status
    return None


def conditions(
    session: Session, actor: Actor, query: CaseQuery, rule: Visibility, index: CaseIndex
) -> list[Any]:
    """Everything but the status: who may see, filters, search. Shared by rows and counts."""
    found: list[Any] = [rule.rule(session, actor)]
    if query.process_id:
        found.append(Instance.process_id == query.process_id)
    if query.created_by:
        found.append(Instance.created_by == query.created_by)
    for name, values in query.fields.items():
        if values:
            found.append(
                exists().where(
                    InstanceField.instance_id == Instance.id,
                    InstanceField.name == name,
                    InstanceField.value.in_(values),
                )
            )
    if query.created_from:
        found.append(Instance.created_at >= query.created_from)
    if query.created_to:
        found.append(Instance.created_at < query.created_to)
    if query.stat is not None:
        found.append(query.stat.condition(session, rule.grid_field))
    if query.overdue_at:
        found.append(overdue_condition(query.overdue_at))
    typed = query.q.strip()
    if typed:
        ref = index.ref(typed)
        if ref is not None:
            found.append(ref_condition(ref))
        else:
            terms = query_terms(typed)
            if terms:
                found.append(matching(session, terms))
    return found


def case_page(
    session: Session,
    actor: Actor,
    query: CaseQuery,
    rule: Visibility,
    index: CaseIndex,
    compiled_by_id: CompiledById,
) -> CasePage:
    """One page of the cases the actor may see that match; a page past the last is the last."""
    where = conditions(session, actor, query, rule, index)
    running = func.coalesce(func.sum(case((Instance.status == "running", 1), else_=0)), 0)
    everything, open_ = session.execute(select(func.count(), running).where(*where)).one()
    by_status = _status(query.status)
    if by_status is None:
        total = everything
    elif query.status == "open":
        total = open_
    elif query.status == "closed":
        total = everything - open_
    else:
        total = session.scalar(select(func.count()).where(*where, by_status)) or 0
    limit = max(1, min(query.limit, MAX_LIMIT))
    offset = max(0, query.offset)
    if offset >= total:
        offset = max(0, (total - 1) // limit * limit)
    stmt = (
        select(Instance)
        .options(defer(Instance.state))
        .where(*where)
        .order_by(*SORTS.get(query.sort, SORTS["newest"]))
        .limit(limit)
        .offset(offset)
    )
    if by_status is not None:
        stmt = stmt.where(by_status)
    items = with_stages(session, summaries_of(session, session.scalars(stmt), compiled_by_id))
    return {
        "items": items,
        "total": total,
        "counts": {"open": open_, "closed": everything - open_, "all": everything},
        "limit": limit,
        "offset": offset,
    }


def earlier_case_fields(
    session: Session,
    schema: Mapping[str, Any] | None,
    accepted: Mapping[str, Any],
    instance: Instance,
    index: CaseIndex,
) -> dict[str, Any]:
    """A form field declared `"x-case": "earlier"` (the duplicate's 重复的案件编号) must name a
    case that exists and was reported before `instance`; its value is then stored as that
    case's number. Raises FormInvalid naming each field that does not."""
    out = dict(accepted)
    refused: dict[str, FieldError] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        value = accepted.get(name)
        if (
            (prop or {}).get("x-case") != "earlier"
            or not isinstance(value, str)
            or not value.strip()
        ):
            continue
        title = prop.get("title") or name
        ref = index.ref(value)
        row = None
        if ref is not None:
            stmt = select(Instance.id, Instance.created_at, Instance.number)
            row = session.execute(stmt.where(ref_condition(ref))).first()
        if row is None:
            text = f"「{title}」不是已有案件的编号"
            refused[name] = FieldError("case_unknown", text, {"title": title})
        elif (_aware(row.created_at), row.id) >= (_aware(instance.created_at), instance.id):
            text = f"「{title}」须是比本案更早上报的案件"
            refused[name] = FieldError("case_not_earlier", text, {"title": title})
        else:
            out[name] = row.number or str(row.id)
    if refused:
        raise FormInvalid("表单有误，请按提示修改 (the form has errors)", refused)
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def named(session: Session, typed: str, index: CaseIndex) -> int | None:
    """The case a typed number or id names, whoever asks (the public lookup, which then
    checks the case's lookup code)."""
    ref = index.ref(typed)
    if ref is None:
        return None
    found: int | None = session.scalar(select(Instance.id).where(ref_condition(ref)))
    return found


def find(
    session: Session, actor: Actor, typed: str, rule: Visibility, index: CaseIndex
) -> tuple[bool, int | None]:
    """Whether `typed` is a case number or id, and the id of that case if the actor may see
    it (None: no such case, or not one of theirs: the same answer, so nothing is revealed)."""
    ref = index.ref(typed)
    if ref is None:
        return False, None
    found = session.scalar(select(Instance.id).where(ref_condition(ref), rule.rule(session, actor)))
    return True, found
