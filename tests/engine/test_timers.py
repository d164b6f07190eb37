"""Deadline timers through the persisted engine, driven by the injectable clock."""

from __future__ import annotations

from datetime import timedelta

from engine.calendar import CHINA
from engine.clock import parse_iso
from tests.conftest import PROCESSES
from tests.helpers import MAJOR_PLAN, RECTIFY_REPORT, accept, act, open_task_names, to_rectify

GRID_CHAIN = ["ap-d1-t1-v1", "ap-d1-t1", "ap-d1", "ap"]  # the village and its ancestors


def _supervise_levels(engine, case):
    """Which grid leaders hold an open supervise task in the case."""
    found = []
    for code in GRID_CHAIN:
        leader = engine.actor("leader_" + code.replace("-", "_"))
        tasks = [t for t in engine.tasks_for(leader) if t["instance_id"] == case]
        if any(t["task_name"] == "supervise" for t in tasks):
            found.append(code)
    return found


def test_escalation_climbs_the_grid_then_closes_when_rectified(engine, clock):
    case = to_rectify(engine, grade="major")
    data = engine.instance(case)["data"]
    deadline = parse_iso(data["deadline"])
    timers = engine.instance(case)["timers"]
    assert {t["task_name"] for t in timers} == {"timer_remind", "timer_overdue"}
    assert max(parse_iso(t["fire_at"]) for t in timers) == deadline

    remind_at = min(parse_iso(t["fire_at"]) for t in timers)
    clock.set(remind_at - timedelta(minutes=1))
    assert engine.fire_due_timers() == 0  # nothing is due a minute early
    clock.set(remind_at)
    assert engine.fire_due_timers() == 1
    assert _supervise_levels(engine, case) == []

    clock.set(deadline + timedelta(minutes=1))
    assert engine.fire_due_timers() == 1
    assert _supervise_levels(engine, case) == GRID_CHAIN[:1]
    # the case shows what the supervision branch knows, beside the rectify task's data
    shown = engine.instance(case)["data"]
    assert shown["overdue"] is True and shown["escalation_level"] == 0
    assert shown["deadline"] == data["deadline"]
    # each further period brings the next leader up, to the top of the tree and no further
    for level in range(1, len(GRID_CHAIN)):
        next_at = min(parse_iso(t["fire_at"]) for t in engine.instance(case)["timers"])
        clock.set(next_at)
        assert engine.fire_due_timers() == 1
        assert _supervise_levels(engine, case) == GRID_CHAIN[: level + 1]
        assert engine.instance(case)["data"]["escalation_level"] == level
    assert engine.instance(case)["timers"] == []
    clock.advance(days=30)
    assert engine.fire_due_timers() == 0

    top = engine.actor("leader_ap")
    supervise = [t for t in engine.tasks_for(top) if t["task_name"] == "supervise"][0]
    engine.complete(supervise["id"], top, {"instructions": "限期整改，每日报告进展"})

    act(engine, "dept_yjj", case, "rectify", {**RECTIFY_REPORT, "plan": MAJOR_PLAN})
    assert open_task_names(engine, case) == ["verify"]  # the supervise tasks closed
    act(engine, "dispatcher", case, "verify", {"passed": True})
    done = engine.instance(case)
    assert done["status"] == "completed" and done["end_event"] == "end_archived"
    fired = [e for e in done["history"] if e["action"] == "timer"]
    assert len(fired) == 2 + len(GRID_CHAIN) - 1
    assert engine.verify_audit().ok


def test_timers_fire_once_each_after_downtime_oldest_first(engine, clock):
    cases = [to_rectify(engine) for _ in range(3)]
    clock.advance(days=60)  # the server was down past every deadline
    assert engine.fire_due_timers() == 2 * len(cases)  # reminder and deadline, once each
    for case in cases:
        fired = [e["task_name"] for e in engine.history(case) if e["action"] == "timer"]
        assert fired == ["timer_remind", "timer_overdue"]
        assert _supervise_levels(engine, case) == GRID_CHAIN[:1]
    # the next level is timed from when the first one actually happened, not from the past
    assert engine.fire_due_timers() == 0


def test_deadlines_skip_holidays_and_count_make_up_days(engine, clock):
    from datetime import UTC, datetime

    # Dispatched on Wednesday 30 September 2026, 10:00 China time: National Day (1-7 October)
    # is off, Saturday 10 October is a make-up working day (调休).
    clock.set(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    case = to_rectify(engine)  # hazardous chemicals, general: 10 working days
    deadline = parse_iso(engine.instance(case)["data"]["deadline"])
    working_days = [
        "10-08",
        "10-09",
        "10-10",
        "10-12",
        "10-13",
        "10-14",
        "10-15",
        "10-16",
        "10-19",
        "10-20",
    ]
    assert engine.instance(case)["data"]["deadline_days"] == len(working_days)
    assert deadline.astimezone(CHINA).strftime("%m-%d %H:%M") == working_days[-1] + " 10:00"


def test_a_bad_calendar_is_refused(engine, tmp_path):
    import shutil

    from engine import DeployRefused

    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    (folder / "calendar.yaml").write_text("holidays:\n  - {dates: 2026-13-01}\n", "utf-8")
    try:
        engine.deploy([folder])
    except DeployRefused as refused:
        assert refused.problems[0].file == "calendar.yaml"
        assert "holidays[0]" in refused.problems[0].message
    else:
        raise AssertionError("a calendar with a 13th month was deployed")


def test_inbox_gets_assignment_reminder_supervision_and_return(engine, clock):
    from tests.helpers import report

    def inbox(username):
        return engine.notifications(engine.actor(username))

    case = to_rectify(engine)
    assert [n["kind"] for n in inbox("dept_yjj")["items"]] == ["assignment"]
    assert "南门化工仓库" in inbox("dept_yjj")["items"][0]["text"]
    assert inbox("dept_zjj")["items"] == []  # another department hears nothing
    timers = engine.instance(case)["timers"]
    clock.set(max(parse_iso(t["fire_at"]) for t in timers))
    engine.fire_due_timers()
    assert [n["kind"] for n in inbox("dept_yjj")["items"]] == ["reminder", "assignment"]
    leader = inbox("leader_ap_d1_t1_v1")
    assert leader["unread"] == 1 and leader["items"][0]["kind"] == "supervision"
    assert leader["items"][0]["instance_id"] == case

    engine.mark_read(engine.actor("leader_ap_d1_t1_v1"))
    assert inbox("leader_ap_d1_t1_v1")["unread"] == 0

    returned = report(engine)
    accept(engine, returned)
    act(engine, "dispatcher", returned, "dispatch", {"department": "yjj", "deadline_days": 5})
    act(engine, "dept_yjj", returned, "receive", {"decision": "return", "reason": "非本部门职责"})
    news = inbox("dispatcher")["items"][0]
    assert news["kind"] == "return" and "非本部门职责" in news["text"]
