"""Time limits on 签收, 延期审批 and 复查 (time_limits.dmn), and the escalation of the
rectification deadline through an extension request, on the real hazard.bpmn through real
persistence, driven by the injectable clock."""

from __future__ import annotations

from datetime import timedelta

from engine.calendar import CHINA
from engine.clock import parse_iso
from engine.tasks import TaskQuery
from tests.helpers import (
    RECTIFY_REPORT,
    accept,
    act,
    open_task,
    open_task_names,
    report,
    to_rectify,
)

GRID_CHAIN = ["ap-d1-t1-v1", "ap-d1-t1", "ap-d1", "ap"]
EXTEND = {"action": "extend", "new_deadline": "2026-12-30", "extension_reason": "设备到货延迟"}


def _leaders_with(engine, case, task_name):
    """The grid codes whose leader holds an open `task_name` task of the case."""
    found = []
    for code in GRID_CHAIN:
        leader = engine.actor("leader_" + code.replace("-", "_"))
        query = TaskQuery(instance_id=case, task_name=task_name)
        if engine.tasks_for(leader, query):
            found.append(code)
    return found


def _timers(engine, case):
    return {t["task_name"]: parse_iso(t["fire_at"]) for t in engine.instance(case)["timers"]}


def _kinds(engine, username, case):
    items = engine.notifications(engine.actor(username))["items"]
    return [n["kind"] for n in items if n["instance_id"] == case]


def _dispatched(engine):
    case = report(engine)
    accept(engine, case)
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 10})
    return case


def test_receive_has_a_time_limit_from_the_table_and_escalates_like_rectification(engine, clock):
    case = _dispatched(engine)
    data = engine.instance(case)["data"]
    assert data["receive_days"] == 2  # time_limits.dmn, general hazard
    due = parse_iso(data["receive_due"])
    dispatched = parse_iso(data["dispatched_at"])
    assert due.astimezone(CHINA).date() > dispatched.astimezone(CHINA).date()
    assert parse_iso(open_task(engine, "dept_yjj", case, "receive")["due_at"]) == due
    timers = _timers(engine, case)
    assert set(timers) == {"timer_receive_remind", "timer_receive_overdue"}
    assert timers["timer_receive_overdue"] == due

    clock.set(timers["timer_receive_remind"])
    assert engine.fire_due_timers() == 1
    assert _kinds(engine, "dept_yjj", case) == ["reminder", "assignment"]
    clock.set(due + timedelta(minutes=1))
    assert engine.fire_due_timers() == 1
    assert _leaders_with(engine, case, "supervise_receive") == GRID_CHAIN[:1]
    assert _kinds(engine, "dispatcher", case)[0] == "overdue"
    next_at = _timers(engine, case)["timer_receive_escalate"]
    clock.set(next_at)
    assert engine.fire_due_timers() == 1
    assert _leaders_with(engine, case, "supervise_receive") == GRID_CHAIN[:2]
    assert _kinds(engine, "dispatcher", case)[0] == "escalation"

    act(engine, "dept_yjj", case, "receive", {"decision": "accept"})
    assert _leaders_with(engine, case, "supervise_receive") == []  # the stage closed its ladder
    assert open_task_names(engine, case) == ["rectify"]
    assert set(_timers(engine, case)) == {"timer_remind", "timer_overdue"}


def test_verify_has_a_time_limit_and_escalates(engine, clock):
    case = to_rectify(engine, grade="general")
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    data = engine.instance(case)["data"]
    verify = open_task(engine, "dispatcher", case, "verify")
    assert parse_iso(verify["due_at"]) == parse_iso(data["verify_due"])
    clock.set(parse_iso(data["verify_due"]) + timedelta(minutes=1))
    assert engine.fire_due_timers() == 2  # the reminder and the limit
    assert _leaders_with(engine, case, "supervise_verify") == GRID_CHAIN[:1]
    act(engine, "dispatcher", case, "verify", {"passed": True})
    assert engine.instance(case)["end_event"] == "end_archived"


def _overdue_with_supervision(engine, clock):
    """A case past its rectification deadline, supervised at level 0."""
    case = to_rectify(engine)
    deadline = parse_iso(engine.instance(case)["data"]["deadline"])
    clock.set(deadline + timedelta(minutes=1))
    engine.fire_due_timers()
    assert _leaders_with(engine, case, "supervise") == GRID_CHAIN[:1]
    return case, deadline


def test_a_pending_extension_request_keeps_the_escalation_running(engine, clock):
    case, _deadline = _overdue_with_supervision(engine, clock)
    escalate_at = _timers(engine, case)["timer_escalate"]
    act(engine, "dept_yjj", case, "rectify", EXTEND)
    assert "approve_extension" in open_task_names(engine, case)
    assert _leaders_with(engine, case, "supervise") == GRID_CHAIN[:1]  # still open
    assert _timers(engine, case)["timer_escalate"] == escalate_at  # and still timed
    clock.set(escalate_at)
    engine.fire_due_timers()
    assert _leaders_with(engine, case, "supervise") == GRID_CHAIN[:2]  # it climbed meanwhile


def test_a_refused_extension_continues_from_where_the_escalation_stood(engine, clock):
    case, _deadline = _overdue_with_supervision(engine, clock)
    escalate_at = _timers(engine, case)["timer_escalate"]
    clock.set(escalate_at)
    engine.fire_due_timers()
    assert _leaders_with(engine, case, "supervise") == GRID_CHAIN[:2]  # level 1
    old_deadline = engine.instance(case)["data"]["deadline"]
    next_at = _timers(engine, case)["timer_escalate"]

    act(engine, "dept_yjj", case, "rectify", EXTEND)
    act(engine, "dispatcher", case, "approve_extension", {"approved": False, "opinion": "理由不足"})
    assert engine.instance(case)["data"]["deadline"] == old_deadline  # same deadline
    assert "rectify" in open_task_names(engine, case)
    assert _leaders_with(engine, case, "supervise") == GRID_CHAIN[:2]  # same level
    timers = _timers(engine, case)
    assert timers["timer_escalate"] == next_at and "timer_overdue" not in timers
    clock.set(next_at)
    engine.fire_due_timers()
    assert _leaders_with(engine, case, "supervise") == GRID_CHAIN[:3]  # level 2, not 0 again
    assert engine.verify_audit().ok


def test_an_approved_extension_moves_the_deadline_and_restarts_the_timers(engine, clock):
    case, deadline = _overdue_with_supervision(engine, clock)
    act(engine, "dept_yjj", case, "rectify", EXTEND)
    act(engine, "dispatcher", case, "approve_extension", {"approved": True})
    data = engine.instance(case)["data"]
    assert data["deadline"] == EXTEND["new_deadline"] + "T18:00:00+08:00"
    assert data["extensions_count"] == 1
    assert _leaders_with(engine, case, "supervise") == []  # the old round's supervision closed
    timers = _timers(engine, case)
    assert set(timers) == {"timer_remind", "timer_overdue"}
    assert timers["timer_overdue"] == parse_iso(data["deadline"]) > deadline
    clock.set(parse_iso(data["deadline"]) + timedelta(minutes=1))
    engine.fire_due_timers()
    assert _leaders_with(engine, case, "supervise") == GRID_CHAIN[:1]  # level 0 from the new one


def test_rectifying_while_the_reminder_is_due_goes_on_to_verify(engine, clock):
    """The reminder due in the same step as the rectification report is cancelled by the
    round's terminate end; it must not hand its own (older) data to the main process."""
    case = to_rectify(engine)
    clock.set(_timers(engine, case)["timer_remind"] + timedelta(minutes=1))
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    assert open_task_names(engine, case) == ["verify"]
    assert engine.instance(case)["data"]["action"] == "report"
