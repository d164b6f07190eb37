"""The 考核 figures on a seeded set of cases driven through the real process: on time, late,
returned and re-dispatched, reworked, extended, major and escalated, invalid, and one of the
month before; each figure equals what is counted by hand below (docs/statistics.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.calendar import CHINA
from engine.case_list import CaseQuery
from engine.stats import Period, StatFilter
from tests.helpers import RECTIFY_REPORT, accept, act, close_invalid, report

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=CHINA).astimezone(UTC)


def dispatch(engine, case: int, department: str, days: int, reason: str | None = None) -> None:
    data = {"department": department, "deadline_days": days}
    if reason:
        data["override_reason"] = reason
    act(engine, "dispatcher", case, "dispatch", data)


def received(engine, case: int, department: str, days: int, reason: str | None = None) -> None:
    dispatch(engine, case, department, days, reason)
    act(engine, f"dept_{department}", case, "receive", {"decision": "accept"})


def rectified(engine, case: int, department: str) -> None:
    act(engine, f"dept_{department}", case, "rectify", RECTIFY_REPORT)


def verified(engine, case: int, passed: bool = True) -> None:
    act(engine, "dispatcher", case, "verify", {"passed": passed, "verify_opinion": "已核实"})


@pytest.fixture
def seeded(engine, clock):
    """The cases of the figures below; the clock ends on 10 April."""
    clock.set(at("2026-02-20"))  # H: February's, outside the period
    h = report(engine)  # due 6 March, done the day it came
    accept(engine, h)
    received(engine, h, "yjj", 10)
    rectified(engine, h, "yjj")
    verified(engine, h)

    clock.set(at("2026-03-02"))  # a Monday
    cases = {}
    for name in "ABCEF":
        cases[name] = report(engine)
        accept(engine, cases[name], grade="major" if name == "E" else "general")
    cases["D"] = report(engine, grid="ap-d2-t1-v1", category="construction")
    accept(engine, cases["D"], category="construction")
    cases["G"] = report(engine)
    close_invalid(engine, cases["G"])
    received(engine, cases["A"], "yjj", 5)  # due Monday 9 March
    received(engine, cases["B"], "yjj", 3)  # due Thursday 5 March
    received(engine, cases["E"], "yjj", 3)  # major, due 5 March, never done
    received(engine, cases["F"], "yjj", 5)
    received(engine, cases["D"], "zjj", 10)  # due 16 March
    dispatch(engine, cases["C"], "yjj", 10)
    act(engine, "dept_yjj", cases["C"], "receive", {"decision": "return", "reason": "属住建局"})
    received(engine, cases["C"], "zjj", 10, reason="在建工地")
    extend = {"action": "extend", "new_deadline": "2026-03-20", "extension_reason": "等设备"}
    act(engine, "dept_yjj", cases["F"], "rectify", extend)
    act(engine, "dispatcher", cases["F"], "approve_extension", {"approved": True})

    clock.set(at("2026-03-03"))
    rectified(engine, cases["C"], "zjj")
    verified(engine, cases["C"])
    rectified(engine, cases["D"], "zjj")
    verified(engine, cases["D"], passed=False)  # rework
    clock.set(at("2026-03-04"))
    rectified(engine, cases["A"], "yjj")
    verified(engine, cases["A"])
    clock.set(at("2026-03-05"))
    rectified(engine, cases["D"], "zjj")
    verified(engine, cases["D"])
    clock.set(at("2026-03-06"))
    rectified(engine, cases["B"], "yjj")  # a day late
    verified(engine, cases["B"])
    clock.set(at("2026-03-06", 10))
    engine.fire_due_timers()  # E is overdue: supervised by its grid's leader
    clock.set(at("2026-03-18"))
    rectified(engine, cases["F"], "yjj")  # before the extended deadline
    verified(engine, cases["F"])
    clock.set(at("2026-04-10"))
    engine.fire_due_timers()  # E's supervision climbs
    cases["H"] = h
    return cases


def rows(report_) -> dict[str, dict]:
    return {row.key: row.as_dict() for row in report_.rows}


def test_department_figures_equal_the_hand_count(engine, seeded):
    figures = engine.stats_report(engine.actor("dispatcher"), "department", MARCH)
    yjj, zjj = rows(figures)["yjj"], rows(figures)["zjj"]
    # yjj had A, B, C (returned), E, F in March; H was February's
    assert yjj["received"] == yjj["dispatched"] == 5
    assert yjj["rectified"] == 3  # A, B, F
    # due in March: A, B, E, F and February's H (done early); C was handed back
    assert yjj["due"] == 5
    assert yjj["on_time"] == 3  # A, F (by its extended deadline), H
    assert yjj["on_time_rate"] == 0.6
    assert yjj["overdue_open"] == 1  # E
    assert yjj["avg_working_days"] == 6.0  # A 2, B 4, F 12
    assert (yjj["returns"], yjj["reworks"], yjj["extensions"]) == (1, 0, 1)
    assert yjj["return_rate"] == 0.2 and yjj["extension_rate"] == 0.2
    assert yjj["major_open"] == 1
    level = engine.instance(seeded["E"])["data"]["escalation_level"]
    assert level >= 1, "supervision climbed after the first level"
    assert yjj["major_open_by_level"] == {str(level): 1}
    # E reached its grid's leader (L0) in March; the climb above came on 10 April
    assert (yjj["escalated"], yjj["escalated_by_level"]) == (1, {"0": 1})
    spring = Period(date(2026, 3, 1), date(2026, 4, 10))
    climbed = rows(engine.stats_report(engine.actor("dispatcher"), "department", spring))["yjj"]
    assert climbed["escalated_by_level"] == {str(n): 1 for n in range(level + 1)}
    # zjj: C (after yjj returned it) and D (reworked once), both by their deadline
    assert (zjj["dispatched"], zjj["rectified"], zjj["due"], zjj["on_time"]) == (2, 2, 2, 2)
    assert (zjj["returns"], zjj["reworks"], zjj["rework_rate"]) == (0, 1, 0.5)
    assert zjj["avg_working_days"] == 2.0  # C 1, D 3
    total = figures.total.as_dict()
    assert (total["dispatched"], total["rectified"], total["due"], total["on_time"]) == (7, 5, 7, 5)
    assert rows(figures)["jtj"]["dispatched"] == 0, "every department has its row"


def test_grid_figures_add_up_the_grids_below(engine, seeded):
    figures = engine.stats_report(engine.actor("dispatcher"), "grid", MARCH)
    by_grid = rows(figures)
    assert by_grid["ap-d1-t1-v1"]["received"] == 6  # A B C E F and the invalid G
    assert by_grid["ap-d1-t1-v1"]["dispatched"] == 6  # C counts for yjj and for zjj
    assert by_grid["ap-d2-t1-v1"]["received"] == by_grid["ap-d2-t1-v1"]["dispatched"] == 1
    assert by_grid["ap-d1"]["received"] == 6 and by_grid["ap"]["received"] == 7
    assert by_grid["ap"]["on_time"] == 5 and by_grid["ap"]["due"] == 7
    assert by_grid["ap"]["major_open"] == 1


def test_the_trend_counts_each_month(engine, seeded):
    period = Period(date(2026, 2, 1), date(2026, 3, 31))
    trend = engine.stats_report(engine.actor("dispatcher"), "department", period).trend
    assert [m["month"] for m in trend] == ["2026-02", "2026-03"]
    assert (trend[0]["dispatched"], trend[0]["rectified"]) == (1, 1)  # H
    assert (trend[1]["dispatched"], trend[1]["rectified"], trend[1]["due"]) == (7, 5, 7)
    assert trend[1]["on_time_rate"] == round(5 / 7, 4)


def test_a_leader_sees_their_area_and_a_department_its_own(engine, seeded):
    leader = engine.actor("leader_ap_d2")  # 南城区: only D
    figures = engine.stats_report(leader, "grid", MARCH)
    assert {row.key for row in figures.rows} >= {"ap-d2", "ap-d2-t1-v1"}
    assert not any(row.key.startswith("ap-d1") or row.key == "ap" for row in figures.rows)
    assert figures.total.counts["dispatched"] == 1
    by_department = rows(engine.stats_report(leader, "department", MARCH))
    assert by_department["zjj"]["dispatched"] == 1 and by_department["yjj"]["dispatched"] == 0
    own = engine.stats_report(engine.actor("dept_zjj"), "department", MARCH)
    assert [row.key for row in own.rows] == ["zjj"]
    assert engine.stats_scope(engine.actor("member_d1_t1_v1")) is None


def test_a_figure_opens_exactly_its_cases(engine, seeded):
    dispatcher = engine.actor("dispatcher")
    scope = engine.stats_scope(dispatcher)

    def listed(figure: str, by: str, key: str) -> set[int]:
        stat = StatFilter(figure, by, key, MARCH, scope, engine.now())
        page = engine.cases(dispatcher, CaseQuery(stat=stat, limit=100))
        return {item["id"] for item in page["items"]}

    assert listed("on_time", "department", "yjj") == {seeded[n] for n in "AFH"}
    assert listed("due", "department", "yjj") == {seeded[n] for n in "ABEFH"}
    assert listed("returns", "department", "yjj") == {seeded["C"]}
    assert listed("overdue_open", "department", "") == {seeded["E"]}
    assert listed("received", "grid", "ap-d1") == {seeded[n] for n in "ABCEFG"}
    assert listed("reworks", "grid", "ap") == {seeded["D"]}
    assert listed("escalated", "department", "yjj") == {seeded["E"]}
    assert listed("escalated", "department", "zjj") == set()
    # a department's officer now sees the cases their department had a part of
    officer = engine.actor("dept_yjj")
    assert engine.can_view(officer, seeded["C"]) and not engine.can_view(officer, seeded["D"])


def test_a_period_with_nothing_in_it_has_no_rates(engine, seeded):
    empty = Period(date(2025, 1, 1), date(2025, 1, 31))
    total = engine.stats_report(engine.actor("dispatcher"), "department", empty).total
    assert total.as_dict()["on_time_rate"] is None and total.counts["dispatched"] == 0
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).until - timedelta(days=31) == at(
        "2026-03-01", 0
    )


def test_a_joint_case_counts_each_departments_part(engine, clock):
    """Three departments' parts of one case: each is dispatched, the returned one is not
    due, the one it went to instead is; all are rectified on time."""
    clock.set(at("2026-03-02"))
    case = report(engine)
    accept(engine, case)
    joint = {"department": "yjj", "deadline_days": 5, "informed_departments": ["jtj"]}
    act(engine, "dispatcher", case, "dispatch", {**joint, "cooperating_departments": ["zjj", "xf"]})
    for department in ("yjj", "zjj"):
        act(engine, f"dept_{department}", case, "receive", {"decision": "accept"})
    act(engine, "dept_xf", case, "receive", {"decision": "return", "reason": "不涉及消防"})
    act(
        engine,
        "dispatcher",
        case,
        "dispatch",
        {**joint, "cooperating_departments": ["zjj", "scjgj"]},
    )
    act(engine, "dept_scjgj", case, "receive", {"decision": "accept"})
    clock.set(at("2026-03-04"))
    for department in ("yjj", "zjj", "scjgj"):
        rectified(engine, case, department)
    verified(engine, case)
    clock.set(at("2026-03-20"))
    by_department = rows(engine.stats_report(engine.actor("dispatcher"), "department", MARCH))
    for department in ("yjj", "zjj", "scjgj"):
        part = by_department[department]
        assert (part["dispatched"], part["rectified"], part["due"], part["on_time"]) == (1, 1, 1, 1)
        assert part["avg_working_days"] == 2.0
    assert (by_department["xf"]["dispatched"], by_department["xf"]["returns"]) == (1, 1)
    assert by_department["xf"]["due"] == 0
    assert by_department["jtj"]["dispatched"] == 0, "informed only: no part"
    grid = rows(engine.stats_report(engine.actor("dispatcher"), "grid", MARCH))["ap-d1-t1-v1"]
    assert (grid["received"], grid["dispatched"], grid["rectified"]) == (1, 4, 3)


def test_a_months_trend_is_its_figures(engine, seeded):
    """Within one month the trend is not counted again: it is the period's figures."""
    figures = engine.stats_report(engine.actor("dispatcher"), "department", MARCH)
    total = figures.total.counts
    assert figures.trend == [
        {
            "month": "2026-03",
            **{k: total[k] for k in ("dispatched", "rectified", "due", "on_time")},
            "on_time_rate": figures.total.rate("on_time_rate"),
        }
    ]
