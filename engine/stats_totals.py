"""Per-day and per-month totals of the 考核 figures that count by a date (`stats_totals`),
so a period's figures read a few rows per department and grid for each day or month it spans,
not every part the period touched: the cost of a year's figures no longer grows with the
cases in it.

Each step that changes a department's part writes its contribution before and after as
deltas (`Totals`), in the step's transaction; `rebuild` writes them all again from
`case_parts` (a database from before revision 0012, the generated demo cases). What depends
on the moment of asking stays with `case_parts` (engine/stats.py): today's work, the deadlines
passing today, and the open parts' figures (overdue, major, supervision levels).

A part's date figures, by the China day of their date, as engine/stats.py `rules` counts them
for a day that has passed: received (the report), dispatched, rectified, due and on_time (the
deadline's day, unless handed back), returns and extensions (the dispatch's day, once the part
has one), reworks (the rectification's day), working days (sum and count, the
rectification's day). `reports` counts a case's report for its grid, with department "": the
grid's figures count cases, dispatched or not."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .calendar import CHINA
from .models import CasePart, Instance, InstanceField, PartEscalation, StatsTotal

# the figures of engine/stats.py that count by a date of the part
DATED = (
    "received",
    "dispatched",
    "rectified",
    "due",
    "on_time",
    "returns",
    "reworks",
    "extensions",
)
FIGURES = (
    "reports",
    *DATED,
    "wd_sum",
    "wd_n",
    "pending",
    "major_open",
    "level_none",
    "level_0",
    "level_1",
    "level_2",
    "level_3",
    "level_4",
    "escalated_0",
    "escalated_1",
    "escalated_2",
    "escalated_3",
    "escalated_4",
)
TOP_LEVEL = 4  # supervision levels from here up are counted together
DAY, MONTH = "day", "month"
# (process id, department, grid) -> (day, figure) -> n
Key = tuple[str, str, str]
Contribution = Counter[tuple[date, str]]


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def contribution(part: Any) -> Contribution:
    """What one part (a CasePart or a row with its columns) adds to the days of its dates."""
    found: Contribution = Counter()

    def add(figure: str, moment: datetime | None, n: int = 1) -> None:
        if moment is not None:
            found[(china_day(moment), figure)] += n

    add("received", part.received_at)
    add("dispatched", part.dispatched_at)
    add("rectified", part.rectified_at)
    if part.returned_at is None:
        add("due", part.due_at)
        if part.on_time:
            add("on_time", part.due_at)
    if part.returns:
        add("returns", part.dispatched_at)
    if part.extensions:
        add("extensions", part.dispatched_at)
    if part.reworks:
        add("reworks", part.rectified_at)
    if part.working_days is not None:
        add("wd_sum", part.rectified_at, part.working_days)
        add("wd_n", part.rectified_at)
    if part.open and part.returned_at is None:  # the open part as it stands
        if part.rectified_at is None:
            add("pending", part.due_at)
        if part.major:
            add("major_open", part.received_at)
            add(level_figure(part.level), part.received_at)
    return found


def level_figure(level: int | None) -> str:
    if level is None or level < 0:
        return "level_none"
    return f"level_{min(level, TOP_LEVEL)}"


def escalated_figure(level: int) -> str:
    return f"escalated_{min(max(level, 0), TOP_LEVEL)}"


def escalation(
    process_id: str, department: str, grid: str | None, level: int, at: datetime
) -> tuple[Key, Contribution]:
    """A part reaching a supervision level, counted on its day."""
    return (process_id, department, grid or ""), Counter(
        {(china_day(at), escalated_figure(level)): 1}
    )


def case_contribution(parts: Sequence[Any]) -> tuple[Key, Contribution] | None:
    """A case's own row (department ""): an open major case once, at the highest level its
    parts reached (a grid's figures count cases; a department's, its parts)."""
    major = [p for p in parts if p.open and p.major and p.returned_at is None]
    if not major:
        return None
    top = max(-1 if p.level is None else p.level for p in major)
    first = major[0]
    key = (first.process_id, "", first.grid or "")
    return key, Counter({(china_day(first.received_at), level_figure(top)): 1})


def part_key(part: Any) -> Key:
    return (part.process_id, part.department, part.grid or "")


class Totals:
    """The deltas of one transaction, written at once (one statement) by `write`."""

    def __init__(self) -> None:
        self.deltas: dict[Key, Contribution] = {}

    def add(self, key: Key, counts: Contribution, sign: int = 1) -> None:
        into = self.deltas.setdefault(key, Counter())
        for day_figure, n in counts.items():
            into[day_figure] += sign * n

    def report(self, process_id: str, grid: str, day: date, sign: int = 1) -> None:
        """A case's report counted for (or taken off) its grid."""
        self.add((process_id, "", grid), Counter({(day, "reports"): 1}), sign)

    def rows(self) -> list[dict[str, Any]]:
        """The rows to add: each day's, and each month's, in one order (no deadlock between
        two steps on PostgreSQL)."""
        rows: dict[tuple[str, date, str, str, str], dict[str, int]] = {}
        for (process_id, department, grid), counts in self.deltas.items():
            for (day, figure), n in counts.items():
                if not n:
                    continue
                for span, first in ((DAY, day), (MONTH, day.replace(day=1))):
                    key = (span, first, process_id, department, grid)
                    row = rows.setdefault(key, dict.fromkeys(FIGURES, 0))
                    row[figure] += n
        return [
            {
                "span": span,
                "day": day,
                "process_id": process_id,
                "department": department,
                "grid": grid,
                **counts,
            }
            for (span, day, process_id, department, grid), counts in sorted(rows.items())
            if any(counts.values())
        ]

    def write(self, session: Session) -> None:
        rows = self.rows()
        if not rows:
            return
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = cast(Table, StatsTotal.__table__)
        for chunk in _chunks(rows, 500):  # SQLite binds at most 32,766 parameters
            stmt = insert(table).values(chunk)
            stmt = stmt.on_conflict_do_update(
                index_elements=["span", "day", "process_id", "department", "grid"],
                set_={f: table.c[f] + stmt.excluded[f] for f in FIGURES},
            )
            session.execute(stmt)
        self.deltas.clear()


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def rebuild(session: Session, process_ids: Sequence[str], grid_field: str) -> int:
    """Every total again from `case_parts` and the cases' report times and grids; returns the
    number of parts read."""
    session.execute(delete(StatsTotal))
    totals = Totals()
    columns = [
        CasePart.process_id,
        CasePart.department,
        CasePart.grid,
        CasePart.received_at,
        CasePart.dispatched_at,
        CasePart.due_at,
        CasePart.rectified_at,
        CasePart.on_time,
        CasePart.working_days,
        CasePart.returned_at,
        CasePart.returns,
        CasePart.reworks,
        CasePart.extensions,
        CasePart.open,
        CasePart.major,
        CasePart.level,
        CasePart.instance_id,
    ]
    parts, case_id = 0, None
    case_parts: list[Any] = []
    rows = session.execute(select(*columns).order_by(CasePart.instance_id)).yield_per(5000)
    for part in [*rows, None]:  # None: the end of the last case
        if part is None or part.instance_id != case_id:
            found = case_contribution(case_parts)
            if found is not None:
                totals.add(*found)
            case_parts = []
        if part is None:
            break
        case_id = part.instance_id
        case_parts.append(part)
        totals.add(part_key(part), contribution(part))
        parts += 1
    for e in session.scalars(select(PartEscalation)).yield_per(5000):
        totals.add(*escalation(e.process_id, e.department, e.grid, e.level, e.at))
    reports = (
        select(Instance.process_id, Instance.created_at, InstanceField.value)
        .join(InstanceField, InstanceField.instance_id == Instance.id)
        .where(InstanceField.name == grid_field, Instance.process_id.in_(list(process_ids)))
    )
    for process_id, created_at, grid in session.execute(reports).yield_per(5000):
        if grid:
            totals.report(process_id, grid, china_day(created_at))
    totals.write(session)
    return parts


def needs_rebuild(session: Session) -> bool:
    """Parts but no totals: a database from before revision 0012."""
    has_parts = session.scalar(select(CasePart.instance_id).limit(1)) is not None
    return has_parts and session.scalar(select(StatsTotal.day).limit(1)) is None


def spans(start: date, end: date) -> Any:
    """The rows covering the days start..end: whole months by their month rows, the days at
    either end by their day rows."""
    if start > end:
        return None
    months: list[date] = []
    first = start if start.day == 1 else _next_month(start)
    while _next_month(first) - timedelta(days=1) <= end:
        months.append(first)
        first = _next_month(first)
    t = StatsTotal
    if not months:
        return and_(t.span == DAY, t.day >= start, t.day <= end)
    return or_(
        and_(t.span == MONTH, t.day.in_(months)),
        and_(t.span == DAY, t.day >= start, t.day < months[0]),
        and_(t.span == DAY, t.day >= _next_month(months[-1]), t.day <= end),
    )


def before(today: date) -> Any:
    """The rows of every day before `today`: the months before this one, this month's days."""
    t = StatsTotal
    this_month = today.replace(day=1)
    return or_(
        and_(t.span == MONTH, t.day < this_month),
        and_(t.span == DAY, t.day >= this_month, t.day < today),
    )


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def sums(
    session: Session,
    group: Any,
    start: date,
    end: date,
    where: Iterable[Any],
) -> Iterator[Any]:
    """Each figure summed over the days start..end, per `group` (columns of StatsTotal)."""
    covering = spans(start, end)
    if covering is None:
        return iter(())
    return _summed(session, group, [covering, *where])


def state_sums(session: Session, group: Any, today: date, where: Iterable[Any]) -> Iterator[Any]:
    """The open parts' figures as they stand, per `group`: `pending` of the days before today
    (overdue by now), the major ones (every month row: they are counted at their report's day)."""
    t = StatsTotal
    table = cast(Table, t.__table__)
    overdue = func.sum(case((before(today), table.c.pending), else_=0)).label("overdue")
    major = [func.sum(table.c[f]).label(f) for f in FIGURES if f.startswith(("major", "level_"))]
    covering = or_(before(today), and_(t.span == DAY, t.day >= today))  # every day, once
    stmt = select(*group, overdue, *major).where(covering, *where).group_by(*group)
    return iter(session.execute(stmt))


def _summed(session: Session, group: Any, where: Iterable[Any]) -> Iterator[Any]:
    table = cast(Table, StatsTotal.__table__)
    columns = [func.sum(table.c[f]).label(f) for f in FIGURES]
    stmt = select(*group, *columns).where(*where).group_by(*group)
    return iter(session.execute(stmt))
