"""The hazard process through the persisted engine, step by step, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from engine import Forbidden, FormInvalid
from engine.clock import parse_iso
from engine.tasks import TaskQuery
from tests.conftest import T0
from tests.helpers import (
    MAJOR_PLAN,
    MEMBER,
    RECTIFY_REPORT,
    REPORT,
    accept,
    act,
    close_invalid,
    complete_with_photos,
    open_task,
    open_task_names,
    report,
    to_rectify,
)


def test_happy_path_to_archive_with_history_and_audit(engine):
    case = report(engine)
    assert open_task_names(engine, case) == ["classify"]
    accept(engine, case)
    data = engine.instance(case)["data"]
    assert data["department"] == "yjj"  # from dispatch.dmn
    assert data["suggested_department"] == "yjj"
    act(
        engine,
        "dispatcher",
        case,
        "dispatch",
        {"department": "yjj", "deadline_days": data["deadline_days"]},
        comment="请尽快处理",
    )
    act(engine, "dept_yjj", case, "receive", {"decision": "accept"})
    rectify = open_task(engine, "dept_yjj", case, "rectify")
    # the rectify task is due at the deadline the dispatch step set: its working days from now
    deadline = parse_iso(engine.instance(case)["data"]["deadline"])
    assert parse_iso(rectify["due_at"]) == deadline
    assert deadline == engine.working_calendar().add_working_days(T0, data["deadline_days"])
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": True})

    done = engine.instance(case)
    assert done["status"] == "completed"
    assert done["end_event"] == "end_archived"
    assert done["open_tasks"] == [] and done["timers"] == []
    steps = [(e["action"], e["task_name"], e["actor"]) for e in done["history"]]
    assert steps == [
        ("start", None, MEMBER),
        ("complete", "classify", "dispatcher"),
        ("complete", "dispatch", "dispatcher"),
        ("complete", "receive", "dept_yjj"),
        ("complete", "rectify", "dept_yjj"),
        ("complete", "verify", "dispatcher"),
        ("end", "end_archived", "dispatcher"),
    ]
    assert all(e["at"] for e in done["history"])
    assert done["history"][2]["comment"] == "请尽快处理"
    assert engine.verify_audit().ok


@pytest.mark.parametrize(
    ("data", "end"),
    [
        ({"outcome": "invalid", "reason": "现场核实无此隐患"}, "end_invalid"),
        ({"outcome": "duplicate", "reason": "已上报", "duplicate_of": "1"}, "end_duplicate"),
    ],
)
def test_invalid_and_duplicate_reports_close_at_classify(engine, data, end):
    report(engine)  # case 1, the earlier one a duplicate may join
    case = report(engine)
    act(engine, "dispatcher", case, "classify", {"category": REPORT["category"], **data})
    assert engine.instance(case)["status"] == "completed"
    assert engine.instance(case)["end_event"] == end


def test_reason_required_unless_accept(engine):
    case = report(engine)
    with pytest.raises(FormInvalid) as refused:
        act(
            engine,
            "dispatcher",
            case,
            "classify",
            {"outcome": "invalid", "category": REPORT["category"]},
        )
    assert "reason" in refused.value.fields
    assert open_task_names(engine, case) == ["classify"]  # nothing half-written


def test_return_goes_back_to_dispatch_with_the_reason(engine):
    case = report(engine)
    accept(engine, case)
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 10})
    act(engine, "dept_yjj", case, "receive", {"decision": "return", "reason": "属住建局职责"})
    assert open_task_names(engine, case) == ["dispatch"]
    assert engine.instance(case)["data"]["return_reason"] == "属住建局职责"
    with pytest.raises(FormInvalid) as refused:
        act(engine, "dispatcher", case, "dispatch", {"department": "zjj", "deadline_days": 10})
    assert "override_reason" in refused.value.fields
    act(
        engine,
        "dispatcher",
        case,
        "dispatch",
        {"department": "zjj", "deadline_days": 10, "override_reason": "仓库在建工地内"},
    )
    with pytest.raises(Forbidden):
        act_as_other = open_task(engine, "dept_zjj", case, "receive")
        engine.complete(act_as_other["id"], engine.actor("dept_yjj"), {"decision": "accept"})
    act(engine, "dept_zjj", case, "receive", {"decision": "accept"})
    act(engine, "dept_zjj", case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": True})
    assert engine.instance(case)["end_event"] == "end_archived"
    assert engine.instance(case)["data"]["returns_count"] == 1


def test_extension_approved_moves_the_deadline_and_timers(engine, clock):
    case = to_rectify(engine)
    before = engine.instance(case)
    old_deadline = before["data"]["deadline"]
    assert before["timers"], "the rectify task's deadline timers are written with the state"
    act(
        engine,
        "dept_yjj",
        case,
        "rectify",
        {"action": "extend", "new_deadline": "2026-04-30", "extension_reason": "设备到货延迟"},
    )
    assert open_task_names(engine, case) == ["approve_extension"]
    # while the request is decided, the rectification deadline's timers keep running and the
    # review has its own time limit
    assert {t["task_name"] for t in engine.instance(case)["timers"]} == {
        "timer_remind",
        "timer_overdue",
        "timer_approval_remind",
        "timer_approval_overdue",
    }
    assert open_task(engine, "dispatcher", case, "approve_extension")["due_at"]
    act(engine, "dispatcher", case, "approve_extension", {"approved": True})
    after = engine.instance(case)
    assert after["data"]["deadline"].startswith("2026-04-30")
    assert after["data"]["deadline"] != old_deadline
    assert max(t["fire_at"] for t in after["timers"]) >= "2026-04-30"
    assert open_task(engine, "dept_yjj", case, "rectify")["due_at"].startswith("2026-04-30")


def test_major_hazard_needs_the_five_in_place_plan(engine):
    case = to_rectify(engine, grade="major")
    with pytest.raises(FormInvalid) as refused:
        act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    assert "plan" in refused.value.fields
    assert open_task_names(engine, case) == ["rectify"]
    act(engine, "dept_yjj", case, "rectify", {**RECTIFY_REPORT, "plan": MAJOR_PLAN})
    assert open_task_names(engine, case) == ["verify"]


def test_verify_failed_means_rework_then_archive(engine):
    case = to_rectify(engine)
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    with pytest.raises(FormInvalid) as refused:
        act(engine, "dispatcher", case, "verify", {"passed": False})
    assert "verify_opinion" in refused.value.fields
    act(engine, "dispatcher", case, "verify", {"passed": False, "verify_opinion": "隔离墙未封顶"})
    assert open_task_names(engine, case) == ["rectify"]
    assert engine.instance(case)["data"]["rework_count"] == 1
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": True})
    done = engine.instance(case)
    assert done["end_event"] == "end_archived"
    assert done["data"]["rework_count"] == 1


def test_department_sees_and_works_only_its_own_tasks(engine):
    case = to_rectify(engine)
    rectify = open_task(engine, "dept_yjj", case, "rectify")
    other = engine.actor("dept_zjj")
    assert engine.tasks_for(other, TaskQuery(instance_id=case)) == []
    with pytest.raises(Forbidden):
        engine.task(rectify["id"], other)
    with pytest.raises(Forbidden):
        complete_with_photos(engine, rectify["id"], other, RECTIFY_REPORT)


def test_grid_member_cannot_classify(engine):
    case = report(engine)
    classify = open_task(engine, "dispatcher", case, "classify")
    with pytest.raises(Forbidden):
        engine.complete(classify["id"], engine.actor(MEMBER), {"outcome": "accept"})


def test_claimed_task_belongs_to_the_claimant(engine, bare_engine):
    case = report(engine)  # dispatcher2 is the demo dispatcher's colleague
    classify = open_task(engine, "dispatcher", case, "classify")
    engine.claim(classify["id"], engine.actor("dispatcher"))
    with pytest.raises(Forbidden):
        engine.complete(classify["id"], engine.actor("dispatcher2"), {"outcome": "accept"})
    engine.release(classify["id"], engine.actor("dispatcher"))
    act(
        engine,
        "dispatcher2",
        case,
        "classify",
        {"outcome": "invalid", "reason": "重复", "category": REPORT["category"]},
    )
    actions = [e["action"] for e in engine.history(case)]
    assert actions[:3] == ["start", "claim", "release"]


def test_hand_over_to_a_colleague_is_recorded_and_notified(engine):
    case = report(engine)
    classify = open_task(engine, "dispatcher", case, "classify")
    assert engine.colleagues(classify["id"], engine.actor("dispatcher")) == ["dispatcher2"]
    with pytest.raises(FormInvalid):
        engine.hand_over(classify["id"], engine.actor("dispatcher"), "dept_yjj")
    engine.hand_over(classify["id"], engine.actor("dispatcher"), "dispatcher2", "我在外勤")
    assert open_task(engine, "dispatcher2", case, "classify")["assignee"] == "dispatcher2"
    with pytest.raises(Forbidden):  # now it is theirs
        engine.complete(classify["id"], engine.actor("dispatcher"), {"outcome": "accept"})
    event = engine.history(case)[-1]
    assert event["action"] == "handover" and event["comment"] == "我在外勤"
    assert event["changes"] == {"assignee": [None, "dispatcher2"]}
    inbox = engine.notifications(engine.actor("dispatcher2"))
    assert inbox["items"][0]["kind"] == "assignment"


def test_a_draft_is_kept_per_person_until_the_task_is_done(engine):
    case = report(engine)
    classify = open_task(engine, "dispatcher", case, "classify")
    engine.save_draft(classify["id"], engine.actor("dispatcher"), {"outcome": "invalid"})
    assert engine.draft(classify["id"], engine.actor("dispatcher"))["data"] == {
        "outcome": "invalid"
    }
    with pytest.raises(Forbidden):
        engine.save_draft(classify["id"], engine.actor("dept_yjj"), {"outcome": "accept"})
    close_invalid(engine, case, "无此单位")
    assert engine.draft(classify["id"], engine.actor("dispatcher")) is None


def test_a_classify_without_outcome_names_only_the_outcome(engine):
    """A rule that applies to one outcome must not fire while no outcome is chosen."""
    case = report(engine)
    task = open_task(engine, "dispatcher", case, "classify")
    with pytest.raises(FormInvalid) as invalid:
        engine.complete(task["id"], engine.actor("dispatcher"), {"category": REPORT["category"]})
    assert set(invalid.value.fields) == {"outcome"}
    with pytest.raises(FormInvalid) as invalid:
        engine.complete(
            task["id"],
            engine.actor("dispatcher"),
            {"outcome": "invalid", "category": REPORT["category"]},
        )
    assert set(invalid.value.fields) == {"reason"}
