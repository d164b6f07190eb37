"""The 考核 figures: per department or per grid (with the grids below it), over a period,
as sums over the indexed `case_parts` rows and the case fields, in SQL on both databases.
Python only adds the (small) grid tree's rows together and divides. The definitions are
written out in docs/statistics.md and on the page; `condition` is the one place each figure's
rule is written, shared by the sums and by the case list a figure opens (its cases)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from . import org
from .calendar import CHINA
from .models import CasePart, Instance, InstanceField, PartEscalation, StatsTotal
from .stats_totals import (
    DATED,
    TOP_LEVEL,
    china_day,
    escalated_figure,
    level_figure,
    state_sums,
    sums,
)

# The figures a row holds, in the order tables and exports show them.
COUNTS = (
    "received",
    "dispatched",
    "rectified",
    "due",
    "on_time",
    "overdue_open",
    "returns",
    "reworks",
    "extensions",
    "major_open",
    "escalated",
)
# the figures with a rule on `case_parts` (escalations are counted from part_escalations)
PART_RULES = frozenset(COUNTS) - {"escalated"}
RATES = {  # rate -> (numerator, denominator)
    "on_time_rate": ("on_time", "due"),
    "return_rate": ("returns", "dispatched"),
    "rework_rate": ("reworks", "rectified"),
    "extension_rate": ("extensions", "dispatched"),
}
BY = ("department", "grid")


@dataclass(frozen=True)
class Period:
    """Whole days in China time, both ends included."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), CHINA)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), CHINA)

    def months(self) -> list[str]:
        found, day = [], self.start.replace(day=1)
        while day <= self.end:
            found.append(day.strftime("%Y-%m"))
            day = (day + timedelta(days=32)).replace(day=1)
        return found


@dataclass(frozen=True)
class Scope:
    """What a reader's figures cover: everything, the grids of their area (a leader), or
    their department's parts (a department's officer)."""

    grids: frozenset[str] | None = None
    department: str | None = None


@dataclass
class StatsRow:
    key: str  # a department or grid code; "" for the total
    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    working_days_sum: int = 0
    working_days_n: int = 0
    levels: dict[int, int] = field(default_factory=dict)  # open major cases by level reached
    escalations: dict[int, int] = field(default_factory=dict)  # in the period, by level reached
    depth: int = 0  # a grid's depth in the tree shown

    @property
    def avg_working_days(self) -> float | None:
        if not self.working_days_n:
            return None
        return round(self.working_days_sum / self.working_days_n, 1)

    def rate(self, name: str) -> float | None:
        top, bottom = RATES[name]
        return round(self.counts[top] / self.counts[bottom], 4) if self.counts[bottom] else None

    def add(self, other: StatsRow) -> None:
        for k in COUNTS:
            self.counts[k] += other.counts[k]
        self.working_days_sum += other.working_days_sum
        self.working_days_n += other.working_days_n
        for level, n in other.levels.items():
            self.levels[level] = self.levels.get(level, 0) + n
        for level, n in other.escalations.items():
            self.escalations[level] = self.escalations.get(level, 0) + n

    def escalated(self, level: int, n: int) -> None:
        self.escalations[level] = self.escalations.get(level, 0) + n
        self.counts["escalated"] += n

    def as_dict(self) -> dict[str, Any]:
        """The API's row: the counts, the rates, the average."""
        c = self.counts
        return {
            "key": self.key,
            "name": self.name,
            **{k: c[k] for k in COUNTS},
            **{r: self.rate(r) for r in RATES},
            "avg_working_days": self.avg_working_days,
            "major_open_by_level": {str(k): v for k, v in sorted(self.levels.items())},
            "escalated_by_level": {str(k): v for k, v in sorted(self.escalations.items())},
        }


def condition(figure: str, period: Period, now: datetime) -> Any:
    """The rule of a part-based figure, as a condition on `case_parts`."""
    return rules(period, now)[figure]


def rules(period: Period, now: datetime) -> dict[str, Any]:
    """Every part-based figure's rule, as conditions on `case_parts` (built once a query)."""
    p = CasePart
    since, until = period.since, period.until
    in_period = lambda column: and_(column >= since, column < until)  # noqa: E731
    dispatched = in_period(p.dispatched_at)
    rules: dict[str, Any] = {
        "received": in_period(p.received_at),
        "dispatched": dispatched,
        "rectified": in_period(p.rectified_at),
        # due in the period: the deadline in force lies in it and has passed, or the part was
        # rectified already; parts handed back are not the department's
        "due": and_(
            in_period(p.due_at),
            p.returned_at.is_(None),
            (p.due_at <= now) | p.rectified_at.is_not(None),
        ),
        "overdue_open": and_(
            p.open.is_(True),
            p.returned_at.is_(None),
            p.rectified_at.is_(None),
            p.due_at < now,
        ),
        "returns": and_(dispatched, p.returns > 0),
        "reworks": and_(in_period(p.rectified_at), p.reworks > 0),
        "extensions": and_(dispatched, p.extensions > 0),
        "major_open": and_(p.open.is_(True), p.major.is_(True), p.returned_at.is_(None)),
    }
    rules["on_time"] = and_(rules["due"], p.on_time.is_(True))
    return rules


def touched(period: Period, open_parts: bool = True) -> Any:
    """The parts a period's figures can count: with a date of theirs in it, or open (the
    figures of today). Each is an indexed range, so the cost grows with the period's work,
    not with every case there ever was."""
    since, until = period.since, period.until
    p = CasePart
    return or_(
        *(and_(c >= since, c < until) for c in (p.received_at, p.dispatched_at, p.rectified_at)),
        and_(p.due_at >= since, p.due_at < until),
        *([p.open.is_(True)] if open_parts else []),
    )


def _scoped(scope: Scope) -> list[Any]:
    found: list[Any] = []
    if scope.grids is not None:
        found.append(CasePart.grid.in_(sorted(scope.grids)))
    if scope.department is not None:
        found.append(CasePart.department == scope.department)
    return found


def _flag(condition_: Any) -> Any:
    return func.coalesce(func.sum(case((condition_, 1), else_=0)), 0)


def _split(period: Period, now: datetime) -> tuple[tuple[date, date] | None, Period]:
    """The period's days up to today (read from `stats_totals`, today's as far as it has
    gone) and the days after today (counted from `case_parts`: only parts already rectified
    can be due there); the second may hold no day (its start after its end)."""
    today = china_day(now)
    up_to_today = min(period.end, today)
    past = (period.start, up_to_today) if period.start <= up_to_today else None
    return past, Period(max(period.start, today + timedelta(days=1)), period.end)


def _later_today(
    session: Session, key: Any, now: datetime, scope: Scope, process_ids: Sequence[str]
) -> dict[str, tuple[int, int]]:
    """key -> (due, pending) of the parts whose deadline is later today and that are not
    rectified: today's totals count them by their deadline's day, but at this moment they are
    neither due nor overdue yet (an index range of the rest of today)."""
    p = CasePart
    tomorrow = datetime.combine(china_day(now) + timedelta(days=1), time(), CHINA)
    stmt = (
        select(key, _flag(p.due_at > now).label("due"), _flag(p.open.is_(True)).label("pending"))
        .where(
            p.process_id.in_(list(process_ids)),
            p.due_at >= now,
            p.due_at < tomorrow,
            p.returned_at.is_(None),
            # not by the index of rectification times (every open part has none): the rest
            # of today's deadlines is the narrow range
            func.coalesce(p.rectified_at, None).is_(None),
            *_scoped(scope),
        )
        .group_by(key)
    )
    return {k: (int(due), int(pending)) for k, due, pending in session.execute(stmt) if k}


def _leaf_rows(
    session: Session,
    by: str,
    period: Period,
    now: datetime,
    scope: Scope,
    process_ids: Sequence[str],
    grid_field: str,
) -> dict[str, StatsRow]:
    """The figures of each department, or of each grid on its own (without those below):
    the totals of the days that have passed, and what today and the open parts add."""
    past, live = _split(period, now)
    rows = _live_rows(session, by, live, now, scope, process_ids, grid_field, open_parts=False)

    def row_of(key: str) -> StatsRow:
        return rows.setdefault(key, StatsRow(key, key))

    t = StatsTotal
    key = t.department if by == "department" else t.grid
    where = _totals_scoped(scope, process_ids)
    parts_only = [*where, t.department != ""]  # a case's own row counts for grids only
    # a grid counts cases (reported, dispatched or not; major, once), a department its parts
    of_cases = by == "grid" and scope.department is None
    if past is not None:
        reports = "reports" if of_cases else "received"
        for found in sums(session, [key], past[0], past[1], where if of_cases else parts_only):
            if found[0]:
                row = StatsRow(found[0], found[0])
                for c in DATED:
                    row.counts[c] = int(getattr(found, reports if c == "received" else c) or 0)
                row.working_days_sum = int(found.wd_sum or 0)
                row.working_days_n = int(found.wd_n or 0)
                for level in range(TOP_LEVEL + 1):
                    n = int(getattr(found, escalated_figure(level)) or 0)
                    if n:
                        row.escalated(level, n)
                row_of(found[0]).add(row)
    tomorrow = china_day(now) + timedelta(days=1)
    for found in state_sums(session, [key], tomorrow, parts_only):
        if found[0]:
            row = row_of(found[0])
            row.counts["overdue_open"] += int(found.overdue or 0)
            row.counts["major_open"] += int(found.major_open or 0)
            if not of_cases:
                _add_levels(row, found)
    if of_cases:
        cases_only = [*where, t.department == ""]
        for found in state_sums(session, [key], tomorrow, cases_only):
            if found[0]:
                _add_levels(row_of(found[0]), found)
    part_key_ = CasePart.department if by == "department" else CasePart.grid
    today_in_period = period.start <= china_day(now) <= period.end
    for k, (due, pending) in _later_today(session, part_key_, now, scope, process_ids).items():
        row = row_of(k)
        row.counts["overdue_open"] -= pending
        if today_in_period:
            row.counts["due"] -= due
    return rows


def _add_levels(row: StatsRow, found: Any) -> None:
    for level in range(-1, TOP_LEVEL + 1):
        n = int(getattr(found, level_figure(level if level >= 0 else None)) or 0)
        if n:
            row.levels[level] = row.levels.get(level, 0) + n


def _totals_scoped(scope: Scope, process_ids: Sequence[str]) -> list[Any]:
    """The totals' rows of the scope (as `_scoped` for the parts)."""
    t = StatsTotal
    found: list[Any] = [t.process_id.in_(list(process_ids))]
    if scope.grids is not None:
        found.append(t.grid.in_(sorted(scope.grids)))
    if scope.department is not None:
        found.append(t.department == scope.department)
    return found


def _live_rows(
    session: Session,
    by: str,
    period: Period,
    now: datetime,
    scope: Scope,
    process_ids: Sequence[str],
    grid_field: str,
    open_parts: bool = True,
) -> dict[str, StatsRow]:
    """Counted from `case_parts` itself: the figures of the period's parts, and the open
    parts' figures of the moment of asking (without `open_parts`: only the deadlines that
    passed today, the rest is in the totals)."""
    key = CasePart.department if by == "department" else CasePart.grid
    part_counts = [c for c in COUNTS if c in PART_RULES and (c != "received" or by == "department")]
    rule = rules(period, now)
    if not open_parts:  # the open parts' figures are the totals'
        part_counts = [c for c in part_counts if c not in ("major_open", "overdue_open")]
    columns = [_flag(rule[c]).label(c) for c in part_counts]
    rectified = rule["rectified"]
    columns += [
        func.coalesce(func.sum(case((rectified, CasePart.working_days), else_=0)), 0).label(
            "wd_sum"
        ),
        _flag(and_(rectified, CasePart.working_days.is_not(None))).label("wd_n"),
    ]
    touching = touched(period, open_parts=open_parts)
    where = [CasePart.process_id.in_(process_ids), touching, *_scoped(scope)]
    rows: dict[str, StatsRow] = {}
    for row in session.execute(select(key, *columns).where(*where).group_by(key)):
        if row[0] is None:
            continue
        found = rows.setdefault(row[0], StatsRow(row[0], row[0]))
        for c in part_counts:
            found.counts[c] = int(getattr(row, c))
        found.working_days_sum, found.working_days_n = int(row.wd_sum), int(row.wd_n)
    if open_parts:
        _live_levels(session, key, where, rule, rows)
    _live_escalations(session, by, period, scope, process_ids, rows)
    if by == "grid":  # reports: every case of the period, dispatched or not
        grid = InstanceField
        stmt = (
            select(grid.value, func.count())
            .join(Instance, Instance.id == grid.instance_id)
            .where(
                grid.name == grid_field,
                Instance.process_id.in_(process_ids),
                Instance.created_at >= period.since,
                Instance.created_at < period.until,
            )
            .group_by(grid.value)
        )
        if scope.grids is not None:
            stmt = stmt.where(grid.value.in_(sorted(scope.grids)))
        if scope.department is not None:
            stmt = stmt.where(_has_part(scope.department))
        for code, n in session.execute(stmt):
            rows.setdefault(code, StatsRow(code, code)).counts["received"] = int(n)
    return rows


def _live_escalations(
    session: Session,
    by: str,
    period: Period,
    scope: Scope,
    process_ids: Sequence[str],
    rows: dict[str, StatsRow],
) -> None:
    """The period's escalations by the level reached, counted from `part_escalations`."""
    e = PartEscalation
    key = e.department if by == "department" else e.grid
    where = [e.process_id.in_(list(process_ids)), e.at >= period.since, e.at < period.until]
    if scope.grids is not None:
        where.append(e.grid.in_(sorted(scope.grids)))
    if scope.department is not None:
        where.append(e.department == scope.department)
    stmt = select(key, e.level, func.count()).where(*where).group_by(key, e.level)
    for k, level, n in session.execute(stmt):
        if k:
            rows.setdefault(k, StatsRow(k, k)).escalated(min(int(level), TOP_LEVEL), int(n))


def _live_levels(
    session: Session, key: Any, where: list[Any], rule: dict[str, Any], rows: dict[str, StatsRow]
) -> None:
    """Open major cases by the supervision level reached (a case once, at its highest part)."""
    level = func.coalesce(func.max(CasePart.level), -1)
    per_case = (
        select(key.label("key"), CasePart.instance_id, level.label("level"))
        .where(*where, rule["major_open"])
        .group_by(key, CasePart.instance_id)
        .subquery()
    )
    stmt = select(per_case.c.key, per_case.c.level, func.count()).group_by(
        per_case.c.key, per_case.c.level
    )
    for k, lvl, n in session.execute(stmt):
        found = rows.setdefault(k, StatsRow(k, k))
        found.levels[int(lvl)] = int(n)


def _has_part(department: str) -> Any:
    return exists().where(CasePart.instance_id == Instance.id, CasePart.department == department)


def figures(
    session: Session,
    by: str,
    period: Period,
    now: datetime,
    scope: Scope,
    process_ids: Sequence[str],
    grid_field: str,
) -> tuple[list[StatsRow], StatsRow]:
    """The rows (departments by name; grids as a tree, each with those below it) and the
    total of what the scope covers."""
    leaves = _leaf_rows(session, by, period, now, scope, process_ids, grid_field)
    total = StatsRow("", "")
    for row in leaves.values():
        total.add(row)
    if by == "department":
        names = {d["code"]: d["name"] for d in org.departments(session)}
        codes = sorted(set(names) | set(leaves), key=lambda c: (names.get(c, c), c))
        if scope.department is not None:
            codes = [c for c in codes if c == scope.department]
        rows = []
        for code in codes:
            row = leaves.get(code) or StatsRow(code, code)
            row.name = names.get(code, code)
            rows.append(row)
        return rows, total
    return _grid_tree(session, leaves, scope), total


def _grid_tree(session: Session, leaves: dict[str, StatsRow], scope: Scope) -> list[StatsRow]:
    grids = org.grids(session)
    children: dict[str | None, list[Any]] = {}
    for g in grids:
        children.setdefault(g["parent"], []).append(g)
    shown = scope.grids
    out: list[StatsRow] = []

    def walk(g: Any, depth: int) -> StatsRow:
        row = StatsRow(g["code"], g["name"], depth=depth)
        if g["code"] in leaves:
            row.add(leaves[g["code"]])
        visible = shown is None or g["code"] in shown
        if visible:
            out.append(row)
        for child in children.get(g["code"], []):
            row.add(walk(child, depth + 1 if visible else depth))
        return row

    for root in children.get(None, []):
        walk(root, 0)
    return out


def monthly(
    session: Session,
    period: Period,
    now: datetime,
    scope: Scope,
    process_ids: Sequence[str],
    total: StatsRow | None = None,
) -> list[dict[str, Any]]:
    """Per month of the period: parts dispatched, rectified, due and on time (`total`: the
    period's, which is the month's when the period lies in one)."""
    if total is not None and len(period.months()) == 1:  # the period's figures are the month's
        c = total.counts
        month_ = {k: c[k] for k in TREND}
        rate = round(c["on_time"] / c["due"], 4) if c["due"] else None
        return [{"month": period.months()[0], **month_, "on_time_rate": rate}]
    counts: dict[str, dict[str, int]] = {m: dict.fromkeys(TREND, 0) for m in period.months()}
    past, live = _split(period, now)
    if past is not None:
        t = StatsTotal
        where = _totals_scoped(scope, process_ids)
        for found in sums(session, [t.span, t.day], past[0], past[1], where):
            into = counts.get(found.day.strftime("%Y-%m"))
            if into is not None:
                for figure in TREND:
                    into[figure] += int(getattr(found, figure) or 0)
    today = china_day(now)
    if period.start <= today <= period.end and today.strftime("%Y-%m") in counts:
        later = _later_today(session, CasePart.department, now, scope, process_ids)
        counts[today.strftime("%Y-%m")]["due"] -= sum(due for due, _pending in later.values())
    if live.start <= live.end:
        _live_monthly(session, live, now, scope, process_ids, counts)
    return [
        {"month": m, **c, "on_time_rate": round(c["on_time"] / c["due"], 4) if c["due"] else None}
        for m, c in counts.items()
    ]


TREND = ("dispatched", "rectified", "due", "on_time")


def _live_monthly(
    session: Session,
    period: Period,
    now: datetime,
    scope: Scope,
    process_ids: Sequence[str],
    counts: dict[str, dict[str, int]],
) -> None:
    """What the period's parts add to each month, counted from `case_parts` itself."""
    dialect = session.get_bind().dialect.name

    def month(column: Any) -> Any:
        if dialect == "postgresql":
            return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
        return func.strftime("%Y-%m", column, "+8 hours")

    where = [CasePart.process_id.in_(process_ids), *_scoped(scope)]
    rule = rules(period, now)
    for figure, column in (
        ("dispatched", CasePart.dispatched_at),
        ("rectified", CasePart.rectified_at),
        ("due", CasePart.due_at),
        ("on_time", CasePart.due_at),
    ):
        m = month(column).label("m")
        stmt = select(m, func.count()).where(*where, rule[figure]).group_by(m)
        for key, n in session.execute(stmt):
            if key in counts:
                counts[key][figure] += int(n)


def cases_condition(
    session: Session,
    figure: str,
    by: str,
    key: str,
    period: Period,
    now: datetime,
    scope: Scope,
    grid_field: str,
) -> Any:
    """The cases behind one figure of one row (a grid's with those below it), as a
    condition on `Instance` for the case list: the same rule as the count."""
    if by == "grid" and key:
        area: Iterable[str] = org.grid_and_below(session, key)
        if scope.grids is not None:
            area = [g for g in area if g in scope.grids]
    else:
        area = sorted(scope.grids) if scope.grids is not None else []
    if figure == "received" and by == "grid":
        field_ = InstanceField
        where = [
            Instance.created_at >= period.since,
            Instance.created_at < period.until,
            exists().where(
                field_.instance_id == Instance.id,
                field_.name == grid_field,
                *([field_.value.in_(sorted(area))] if key or scope.grids is not None else []),
            ),
        ]
        if scope.department is not None:
            where.append(_has_part(scope.department))
        return and_(*where)
    if figure == "escalated":  # the same rule as _live_escalations
        e: Any = PartEscalation
        rule = and_(e.at >= period.since, e.at < period.until)
    else:
        e, rule = CasePart, condition(figure, period, now)
    part = [e.instance_id == Instance.id, rule]
    if by == "department" and key:
        part.append(e.department == key)
    if key and by == "grid" or scope.grids is not None:
        part.append(e.grid.in_(sorted(area)))
    if scope.department is not None:
        part.append(e.department == scope.department)
    return exists().where(*part)


@dataclass(frozen=True)
class StatFilter:
    """The case list of one figure of one row (`figure`, `by`, `key`: "" for the total)."""

    figure: str
    by: str
    key: str
    period: Period
    scope: Scope
    now: datetime

    def condition(self, session: Session, grid_field: str) -> Any:
        return cases_condition(
            session,
            self.figure,
            self.by,
            self.key,
            self.period,
            self.now,
            self.scope,
            grid_field,
        )


@dataclass
class StatsReport:
    by: str
    period: Period
    rows: list[StatsRow]
    total: StatsRow
    trend: list[dict[str, Any]]


def scope_of(session: Session, actor: Any, sees_all: bool) -> Scope | None:
    """What the actor's figures cover: all (dispatchers, administrators), a leader's area,
    a department's officer their department's parts; None: no figures (a grid member)."""
    from .visibility import led_grids  # visibility imports the models this module does

    if sees_all:
        return Scope()
    area = led_grids(session, actor)
    if area:
        return Scope(grids=frozenset(area))
    if actor.department:
        return Scope(department=actor.department)
    return None


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date, or None when absent or not one."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None
