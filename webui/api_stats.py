"""The 考核 figures through the API (`GET /api/v1/stats`), the same rows as the page, for a
provincial system to pull: per department or grid over a period, as far as the token's user
may see (dispatchers and administrators all, a leader their area, a department its own)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field
from spectree import Response

from engine import Forbidden

from .api import ERRORS, _error, api_blueprint, spec, token_required
from .context import current_engine
from .stats_figures import stats_ask


class StatsArgs(BaseModel):
    by: Literal["department", "grid"] = Field("department", description="one row per ...")
    from_: dt.date | None = Field(
        None,
        alias="from",
        description="first day (China time); default: the 1st of the month two before `to`'s",
    )
    to: dt.date | None = Field(None, description="last day, included; default: today")


class StatsRowBody(BaseModel):
    key: str = Field(description="the department or grid code; '' for the total")
    name: str
    received: int
    dispatched: int
    rectified: int
    due: int
    on_time: int
    on_time_rate: float | None = Field(description="on_time ÷ due; null when nothing was due")
    overdue_open: int
    avg_working_days: float | None
    returns: int
    return_rate: float | None
    reworks: int
    rework_rate: float | None
    extensions: int
    extension_rate: float | None
    major_open: int
    major_open_by_level: dict[str, int] = Field(
        description="open major hazards by the supervision level reached (-1: not yet)"
    )
    escalated: int = Field(description="escalations in the period (a part reaching a level)")
    escalated_by_level: dict[str, int] = Field(
        description="the period's escalations by the level reached (0: the grid's leader)"
    )


class StatsBody(BaseModel):
    by: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    rows: list[StatsRowBody]
    total: StatsRowBody
    definitions: str = Field(description="where each figure's rule is written")


@api_blueprint.get("/stats")
@spec.validate(query=StatsArgs, resp=Response(HTTP_200=StatsBody, **ERRORS), tags=["stats"])
@token_required
def get_stats() -> ResponseReturnValue:
    """The 考核 figures (definitions: docs/statistics.md; grids include the grids below)."""
    ask, problems = stats_ask(request.args)  # the page's rules: defaults, order, length
    if ask is None:
        return _error(422, "invalid", "request parameters are invalid", problems)
    start, end = ask.period.start, ask.period.end
    try:
        report = current_engine().stats_report(g.actor, ask.by, ask.period)
    except Forbidden:
        return _error(403, "forbidden", "no figures for this user (a grid member has none)")
    return jsonify(
        {
            "by": report.by,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "rows": [row.as_dict() for row in report.rows],
            "total": report.total.as_dict(),
            "definitions": "docs/statistics.md",
        }
    )
