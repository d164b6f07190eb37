"""The per-day totals (`stats_totals`) behind the 考核 figures: what the steps wrote equals a
rebuild from the parts, and figures read from them equal counting every part, for periods
before, around and after today, every grouping and every scope; a case reported and handled
today counts at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import stats
from engine.clock import parse_iso
from engine.models import StatsTotal
from engine.stats import Period, Scope
from engine.stats_totals import FIGURES, china_day
from tests.engine.test_stats import MARCH, at, received, rectified, rows, seeded, verified
from tests.helpers import accept, report

__all__ = ["seeded"]  # the fixture, shared with the hand-counted figures

PERIODS = [
    MARCH,
    Period(date(2026, 2, 1), date(2026, 4, 10)),  # whole months, then days up to today
    Period(date(2026, 2, 20), date(2026, 3, 5)),  # days only, across a month's end
    Period(date(2026, 3, 15), date(2026, 5, 31)),  # today and days after it
    Period(date(2026, 4, 10), date(2026, 4, 10)),  # today alone
]
SCOPES = [
    Scope(),
    Scope(department="yjj"),
    Scope(grids=frozenset({"ap-d2", "ap-d2-t1", "ap-d2-t1-v1"})),
]


def totals(engine) -> list[tuple]:
    with engine.db.reading() as session:
        found = session.scalars(select(StatsTotal)).all()
        return sorted(
            (t.span, t.day, t.process_id, t.department, t.grid, *(getattr(t, f) for f in FIGURES))
            for t in found
            if any(getattr(t, f) for f in FIGURES)
        )


def test_what_the_steps_wrote_equals_a_rebuild_from_the_parts(engine, seeded):
    written = totals(engine)
    assert written, "the steps wrote totals"
    assert {row[0] for row in written} == {"day", "month"}
    engine.rebuild_stats_totals()
    assert totals(engine) == written


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.start}..{p.end}")
def test_figures_from_the_totals_equal_counting_every_part(engine, seeded, period):
    now = engine.now()
    processes, grid_field = list(engine.config.stats), engine.config.case_grid_field
    with engine.db.reading() as session:
        for by in stats.BY:
            for scope in SCOPES:
                read = stats._leaf_rows(session, by, period, now, scope, processes, grid_field)
                counted = stats._live_rows(session, by, period, now, scope, processes, grid_field)
                assert {k: r.as_dict() for k, r in read.items() if any(r.counts.values())} == {
                    k: r.as_dict() for k, r in counted.items() if any(r.counts.values())
                }, (by, scope)
            months: dict[str, dict[str, int]] = {
                m: dict.fromkeys(stats.TREND, 0) for m in period.months()
            }
            stats._live_monthly(session, period, now, Scope(), processes, months)
            trend = stats.monthly(session, period, now, Scope(), processes)
            assert {m["month"]: {f: m[f] for f in stats.TREND} for m in trend} == months


def test_todays_work_counts_at_once_and_tomorrow_from_the_totals(engine, seeded, clock):
    today = Period(date(2026, 4, 10), date(2026, 4, 10))
    case = report(engine)
    accept(engine, case)
    received(engine, case, "yjj", 5)
    clock.set(at("2026-04-10", 15))
    rectified(engine, case, "yjj")
    verified(engine, case)
    dispatcher = engine.actor("dispatcher")
    now_ = rows(engine.stats_report(dispatcher, "department", today))["yjj"]
    assert (now_["dispatched"], now_["rectified"], now_["received"]) == (1, 1, 1)
    clock.set(at("2026-04-11"))
    later = rows(engine.stats_report(dispatcher, "department", today))["yjj"]
    assert later == now_
    grid = rows(engine.stats_report(dispatcher, "grid", today))
    assert grid["ap-d1-t1-v1"]["received"] == 1


def test_a_deadline_passing_today_is_overdue_from_its_moment(engine, seeded, clock):
    case = report(engine)
    accept(engine, case)
    received(engine, case, "yjj", 1)
    due = parse_iso(engine.instance(case)["data"]["deadline"])
    dispatcher = engine.actor("dispatcher")
    period = Period(date(2026, 3, 1), china_day(due))

    def overdue() -> int:
        return rows(engine.stats_report(dispatcher, "department", period))["yjj"]["overdue_open"]

    processes, grid_field = list(engine.config.stats), engine.config.case_grid_field

    def same_as_counting_every_part() -> None:
        with engine.db.reading() as session:
            for by in stats.BY:
                args = (by, period, engine.now(), Scope(), processes, grid_field)
                read = stats._leaf_rows(session, *args)
                counted = stats._live_rows(session, *args)
                assert {k: r.as_dict() for k, r in read.items() if any(r.counts.values())} == {
                    k: r.as_dict() for k, r in counted.items() if any(r.counts.values())
                }

    clock.set(due - timedelta(minutes=1))  # due later today: neither due nor overdue yet
    before = overdue()
    same_as_counting_every_part()
    clock.set(due + timedelta(minutes=1))
    assert overdue() == before + 1
    same_as_counting_every_part()
