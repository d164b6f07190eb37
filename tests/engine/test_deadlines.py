"""Deadlines move with approved extensions, and timers never fail a person's command."""

from __future__ import annotations

import threading
from datetime import timedelta

from engine.calendar import CHINA
from engine.clock import parse_iso
from tests.helpers import accept, act, open_task_names, to_rectify


def _supervise_count(engine, case) -> int:
    return open_task_names(engine, case).count("supervise")


def test_extension_on_day_3_of_5_moves_every_timer(engine, clock):
    from tests.helpers import report

    case = report(engine)
    accept(engine, case)
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 5})
    act(engine, "dept_yjj", case, "receive", {"decision": "accept"})
    old_deadline = parse_iso(engine.instance(case)["data"]["deadline"])

    clock.advance(days=3)  # day 3 of 5: the reminder came, the department asks for more time
    engine.fire_due_timers()
    assert _supervise_count(engine, case) == 0
    new_day = (old_deadline + timedelta(days=14)).astimezone(CHINA).date()
    act(
        engine,
        "dept_yjj",
        case,
        "rectify",
        {"action": "extend", "new_deadline": new_day.isoformat(), "extension_reason": "等设备"},
    )
    act(engine, "dispatcher", case, "approve_extension", {"approved": True})
    new_deadline = parse_iso(engine.instance(case)["data"]["deadline"])
    assert new_deadline.astimezone(CHINA).date() == new_day

    clock.set(old_deadline + timedelta(hours=1))  # the old deadline passes: nothing happens
    engine.fire_due_timers()
    assert _supervise_count(engine, case) == 0
    assert all(parse_iso(t["fire_at"]) > old_deadline for t in engine.instance(case)["timers"])

    clock.set(new_deadline + timedelta(minutes=1))  # the new one: supervision starts
    engine.fire_due_timers()
    assert _supervise_count(engine, case) == 1


def test_a_timer_firing_during_a_completion_fails_nobody(engine, make_engine, clock):
    """Two engines (two processes) on one case: one fires its due reminder while the other
    completes a task of the same case. Both succeed, in some order; neither sees a conflict."""
    cases = [to_rectify(engine) for _ in range(4)]
    reminder_at = min(parse_iso(t["fire_at"]) for t in engine.instance(cases[0])["timers"])
    clock.set(reminder_at + timedelta(minutes=1))
    other = make_engine()
    from tests.helpers import RECTIFY_REPORT, complete_with_photos, open_task

    tasks = [open_task(engine, "dept_yjj", c, "rectify")["id"] for c in cases]
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        try:
            other.fire_due_timers()
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    def complete_all() -> None:
        barrier.wait()
        for task in tasks:
            try:
                complete_with_photos(engine, task, engine.actor("dept_yjj"), RECTIFY_REPORT)
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=sweep), threading.Thread(target=complete_all)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for case in cases:
        assert open_task_names(engine, case) == ["verify"]
    assert engine.verify_audit().ok


def test_one_sweep_clears_a_backlog_larger_than_its_batch(engine, clock):
    cases = [to_rectify(engine) for _ in range(5)]
    clock.advance(days=60)
    assert engine.fire_due_timers(limit=2) == 2 * len(cases)  # three batches, one sweep
    assert engine.fire_due_timers(limit=2) == 0
