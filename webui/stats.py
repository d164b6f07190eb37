"""The 考核 page (`/stats`): the figures per department or per grid over a period, with the
total, the trend per month, charts (ECharts, webui/static/stats.js), the definitions, links
from each count to its cases, and the same table as XLSX or CSV; the quarterly summary
(季度统计表) for the meeting. Leaders see their area, departments their own figures."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine import Forbidden, Period, StatsReport, StatsRow

from .context import current_actor, current_engine
from .exports import Cell, Sheet, csv_file, xlsx
from .schema_form import local_time
from .stats_figures import COLUMNS, FIGURES, StatsAsk, months_back, percent, stats_ask, today

stats_blueprint = Blueprint("stats", __name__, url_prefix="/stats")
RATE_COLUMNS = {"on_time_rate", "return_rate", "rework_rate", "extension_rate"}


def _report(ask: StatsAsk) -> StatsReport:
    try:
        return current_engine().stats_report(current_actor(), ask.by, ask.period)
    except Forbidden:
        abort(403)


def _ask_or_400() -> StatsAsk:
    ask, problems = stats_ask(request.args)
    if ask is None:
        abort(400, description="; ".join(f"{k}: {v}" for k, v in problems.items()))
    return ask


def value(row: StatsRow, column: str) -> Cell:
    if column in RATE_COLUMNS:
        return row.rate(column)
    if column == "avg_working_days":
        return row.avg_working_days
    return row.counts[column]


def _levels(row: StatsRow, column: str = "major_open") -> str:
    """The levels of a row's open major hazards (or of its escalations), as L0: 2 L1: 1."""
    found = row.levels if column == "major_open" else row.escalations
    return " ".join(f"L{level}: {n}" for level, n in sorted(found.items()) if level >= 0)


def quick_periods() -> list[tuple[str, date, date]]:
    """The periods meetings ask for: the last three months (the default), this month, last
    month, this quarter, last quarter, this year."""
    now = today()
    month = now.replace(day=1)
    quarter = month.replace(month=(now.month - 1) // 3 * 3 + 1)
    last_end = month.fromordinal(month.toordinal() - 1)
    last_quarter = months_back(quarter, 3)
    return [
        (_("Last three months"), months_back(now, 2), now),
        (_("This month"), month, now),
        (_("Last month"), last_end.replace(day=1), last_end),
        (_("This quarter"), quarter, now),
        (_("Last quarter"), last_quarter, quarter.fromordinal(quarter.toordinal() - 1)),
        (_("This year"), now.replace(month=1, day=1), now),
    ]


@stats_blueprint.get("")
@login_required
def index() -> ResponseReturnValue:
    ask, problems = stats_ask(request.args)
    if ask is None:  # the form shown again with what was wrong
        fallback, _none = stats_ask({"by": request.args.get("by", "department")})
        assert fallback is not None
        report, shown = _report(fallback), dict(request.args)
    else:
        report, shown = _report(ask), {}
    period = report.period
    chart = {
        "names": [row.name for row in report.rows],
        "on_time_rate": [row.rate("on_time_rate") for row in report.rows],
        "overdue_open": [row.counts["overdue_open"] for row in report.rows],
        "trend": report.trend,
        "labels": {
            "on_time_rate": str(FIGURES["on_time_rate"][0]),
            "overdue_open": str(FIGURES["overdue_open"][0]),
            "dispatched": str(FIGURES["dispatched"][0]),
            "rectified": str(FIGURES["rectified"][0]),
        },
    }
    return render_template(
        "stats/index.html",
        report=report,
        by=report.by,
        period=period,
        problems=problems,
        typed=shown,
        columns=COLUMNS,
        figures={k: (str(title), str(text)) for k, (title, text) in FIGURES.items()},
        rate_columns=RATE_COLUMNS,
        value=value,
        percent=percent,
        # on the page a level and its count stay together when the cell wraps
        levels=lambda row, column: _levels(row, column).replace(": ", ":\u00a0"),
        chart_json=json.dumps(chart, ensure_ascii=False),
        quick=quick_periods(),
        cases_url=_cases_urls(report.by, period),
    )


def _cases_urls(by: str, period: Period) -> Any:
    """The case list of one figure of one row ("": the total): (figure, key) -> its URL, the
    common part made once (a table has hundreds of links)."""
    common = {"status": "all", "by": by, "from": period.start.isoformat()}
    prefix = url_for("cases.index") + "?" + urlencode({**common, "to": period.end.isoformat()})
    return lambda figure, key: f"{prefix}&{urlencode({'stat': figure, 'key': key})}"


def _sheet(report: StatsReport, title: str) -> Sheet:
    by_title = _("Department") if report.by == "department" else _("Grid")
    header = [
        (_("Period"), f"{report.period.start.isoformat()} – {report.period.end.isoformat()}"),
        (_("By"), by_title),
        (_("Figures as of"), local_time(current_engine().now().isoformat()) + " (UTC+8)"),
    ]
    columns = [
        by_title,
        *(str(FIGURES[c][0]) for c in COLUMNS),
        _("Major open by level"),
        _("Escalated by level"),
    ]

    def line(row: StatsRow, name: str) -> list[Cell]:
        by_level = [_levels(row), _levels(row, "escalated")]
        return [name, *(value(row, c) for c in COLUMNS), *by_level]

    rows = [line(row, "  " * row.depth + row.name) for row in report.rows]
    rows.append(line(report.total, _("Total")))
    return Sheet(title, header, columns, rows)


@stats_blueprint.get("/export.<any(xlsx, csv):kind>")
@login_required
def export(kind: str) -> ResponseReturnValue:
    """The table of the page as it is asked for, its period and grouping in the header."""
    ask = _ask_or_400()
    report = _report(ask)
    name = f"stats-{ask.by}-{ask.period.start.isoformat()}-{ask.period.end.isoformat()}"
    sheet = _sheet(report, _("Statistics"))
    return xlsx([sheet], name + ".xlsx") if kind == "xlsx" else csv_file(sheet, name + ".csv")


def quarter_period(year: int, quarter: int) -> Period:
    start = date(year, quarter * 3 - 2, 1)
    end = date(year + quarter // 4, quarter % 4 * 3 + 1, 1)
    return Period(start, end.fromordinal(end.toordinal() - 1))


@stats_blueprint.get("/quarterly.xlsx")
@login_required
def quarterly() -> ResponseReturnValue:
    """季度统计表: one quarter, a sheet per department and one per grid."""
    now = today()
    raw_year, raw_quarter = request.args.get("year", ""), request.args.get("quarter", "")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else now.year
    quarter = int(raw_quarter) if raw_quarter in ("1", "2", "3", "4") else (now.month + 2) // 3
    period = quarter_period(year, quarter)
    sheets = [
        _sheet(_report(StatsAsk(by, period)), title)
        for by, title in (("department", _("By department")), ("grid", _("By grid")))
    ]
    return xlsx(sheets, f"quarterly-{year}-Q{quarter}.xlsx")


def case_stat_args(args: Any) -> dict[str, Any] | None:
    """For the case list: the figure a link from the page asks for, if it is one."""
    figure = args.get("stat", "")
    if figure not in FIGURES or figure in RATE_COLUMNS or figure == "avg_working_days":
        return None
    ask, problems = stats_ask(args)
    if ask is None:
        return None
    return {"figure": figure, "by": ask.by, "key": args.get("key", ""), "period": ask.period}
