"""The 考核 figures' names and definitions in the reader's language, and the period and
grouping a request asks for: shared by the page, its exports and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from engine import BY, CHINA, Period, parse_day

# figure -> (column title, definition): the definitions of docs/statistics.md, shortened
FIGURES = {
    "received": (
        _l("Reported"),
        _l(
            "Cases reported in the period (a grid: in it or the grids below it; a department:"
            " those later dispatched to it)."
        ),
    ),
    "dispatched": (
        _l("Dispatched"),
        _l("Department parts dispatched in the period, each department of a joint case once."),
    ),
    "rectified": (
        _l("Rectified"),
        _l(
            "Parts whose rectification the department reported in the period and that were "
            "not sent back for rework since."
        ),
    ),
    "due": (
        _l("Due"),
        _l(
            "Parts whose deadline in force (after extensions) fell in the period and has "
            "passed, or that were rectified already; parts handed back are not counted."
        ),
    ),
    "on_time": (
        _l("On time"),
        _l("Of the parts due, those the department reported rectified by the deadline in force."),
    ),
    "on_time_rate": (_l("On-time rate"), _l("On time ÷ due (按期整改率).")),
    "overdue_open": (
        _l("Overdue now"),
        _l("Open parts past their deadline in force, not yet reported rectified, today."),
    ),
    "avg_working_days": (
        _l("Avg. working days"),
        _l(
            "Average working days (the working calendar: weekends, holidays and make-up "
            "days) from dispatch to the reported rectification, of the parts rectified."
        ),
    ),
    "returns": (
        _l("Returned"),
        _l("Parts dispatched in the period that the department handed back (退回)."),
    ),
    "return_rate": (_l("Return rate"), _l("Returned ÷ dispatched (退回率).")),
    "reworks": (
        _l("Reworked"),
        _l("Parts rectified in the period whose first rectification failed verification (返工)."),
    ),
    "rework_rate": (_l("Rework rate"), _l("Reworked ÷ rectified (返工率).")),
    "extensions": (
        _l("Extended"),
        _l("Parts dispatched in the period whose deadline was extended (延期)."),
    ),
    "extension_rate": (_l("Extension rate"), _l("Extended ÷ dispatched (延期率).")),
    "major_open": (
        _l("Major open"),
        _l(
            "Major hazards (重大隐患) still open today, with the supervision level each has "
            "reached: L0 its grid's leader, L1 the next leader up, and so on."
        ),
    ),
    "escalated": (
        _l("Escalated"),
        _l(
            "Escalations in the period, by the level reached: a part overdue goes to its "
            "grid's leader (L0), then to each leader up (L1, L2 ...); each level counts once."
        ),
    ),
}
# the table's columns, in order: counts link to their cases, rates and the average do not
COLUMNS = (
    "received",
    "dispatched",
    "rectified",
    "due",
    "on_time",
    "on_time_rate",
    "overdue_open",
    "avg_working_days",
    "returns",
    "return_rate",
    "reworks",
    "rework_rate",
    "extensions",
    "extension_rate",
    "major_open",
    "escalated",
)


@dataclass(frozen=True)
class StatsAsk:
    by: str
    period: Period


def today() -> date:
    return datetime.now(CHINA).date()


def stats_ask(args: Mapping[str, str]) -> tuple[StatsAsk | None, dict[str, str]]:
    """The grouping and period asked for (`by`, `from`, `to`: YYYY-MM-DD, China time): by
    default per department, from the first of the month two months back to today (so the
    first days of a month show the months before them too). Problems name their parameter."""
    problems: dict[str, str] = {}
    by = args.get("by") or "department"
    if by not in BY:
        problems["by"] = str(_l("give department or grid"))
    start, end = parse_day(args.get("from")), parse_day(args.get("to"))
    if args.get("from") and start is None:
        problems["from"] = str(_l("not a date: write YYYY-MM-DD"))
    if args.get("to") and end is None:
        problems["to"] = str(_l("not a date: write YYYY-MM-DD"))
    end = end or today()
    start = start or months_back(end, 2)
    if not problems and start > end:
        problems["from"] = str(_l("the period starts after it ends"))
    if not problems and (end - start).days > 3660:
        problems["to"] = str(_l("a period of at most ten years"))
    if problems:
        return None, problems
    return StatsAsk(by, Period(start, end)), {}


def months_back(day: date, months: int) -> date:
    """The first of the month `months` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"
