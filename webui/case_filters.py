"""The case list's query from a query string, shared by the list page (`/cases`) and the
API (`GET /api/v1/instances`): the configured case fields (a grid with the grids below it),
the report date range in China time, the search, the sort and the status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from engine import CHINA, CaseQuery

from .context import current_engine

SORTS = ("newest", "oldest", "changed")
LIST_STATUSES = ("open", "closed", "all")
PAGE_SIZES = (10, 25, 50, 100)
MAX_PAGE = 10_000
MAX_QUERY = 200  # characters of a search


def china_day(raw: str | date | None, end: bool = False) -> datetime | None:
    """A date as the start of that day in China time; an end date includes the whole day.
    What is not a date is no limit."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = date.fromisoformat(raw)
        except ValueError:
            return None
    return datetime.combine(raw + timedelta(days=1 if end else 0), time(), CHINA)


def bounded_page(raw: str | None) -> int:
    """The page number asked for; anything that is not one is the first page."""
    raw = (raw or "").strip()
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) > 0 else 1


def field_values(name: str, values: Iterable[str]) -> list[str]:
    """The values a case field filter allows: a grid's are it and the grids below it."""
    engine = current_engine()
    allowed: list[str] = []
    for value in values:
        if value:
            allowed += engine.grid_and_below(value) if name == "grid" else [value]
    return list(dict.fromkeys(allowed))


def case_query(
    *,
    fields: dict[str, list[str]],
    status: str,
    q: str = "",
    created_from: str | date | None = None,
    created_to: str | date | None = None,
    sort: str = "newest",
    limit: int = 25,
    offset: int = 0,
    process_id: str | None = None,
    overdue: bool = False,
) -> CaseQuery:
    """`overdue`: only cases with an open task past its deadline now (the engine clock)."""
    return CaseQuery(
        status=status,
        q=q[:MAX_QUERY],
        process_id=process_id,
        fields={name: field_values(name, values) for name, values in fields.items() if values},
        created_from=china_day(created_from),
        created_to=china_day(created_to, end=True),
        sort=sort if sort in SORTS else "newest",
        limit=limit,
        offset=offset,
        overdue_at=current_engine().now() if overdue else None,
    )
