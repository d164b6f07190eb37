"""Everyone involved hears what concerns them: notifications declared in hazard.bpmn (notify,
notify_to, notify_text), the reporter addressed through reporter()."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import parse_iso
from engine.runtime import current_reporter, reporter
from tests.helpers import (
    MEMBER,
    RECTIFY_REPORT,
    act,
    close_invalid,
    report,
    to_rectify,
)

EXTEND = {"action": "extend", "new_deadline": "2026-12-30", "extension_reason": "设备到货延迟"}


def _inbox(engine, username, case):
    items = engine.notifications(engine.actor(username))["items"]
    return [(n["kind"], n["text"]) for n in items if n["instance_id"] == case]


def test_reporter_names_the_starter_of_the_running_case_only():
    assert reporter() == []  # outside a command on a case
    token = current_reporter.set("member_d1_t1_v1")
    try:
        assert reporter() == ["user:member_d1_t1_v1"]
    finally:
        current_reporter.reset(token)


def test_the_reporter_hears_the_classification_and_the_archive(engine):
    invalid = report(engine)
    close_invalid(engine, invalid, reason="无此单位")
    assert _inbox(engine, MEMBER, invalid) == [
        ("classified", "您上报的隐患（南门化工仓库）经核实为无效：无此单位")
    ]
    case = to_rectify(engine)
    assert _inbox(engine, MEMBER, case)[0][0] == "classified"
    assert "已受理" in _inbox(engine, MEMBER, case)[0][1]
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": True})
    assert _inbox(engine, MEMBER, case)[0][0] == "archived"
    assert _inbox(engine, "member_d2_t1_v1", case) == []  # another grid member hears nothing


def test_a_duplicate_names_the_case_it_was_merged_into(engine):
    first = report(engine)
    number = engine.instance(first)["number"]
    second = report(engine)
    data = {"outcome": "duplicate", "reason": "同一仓库", "duplicate_of": number}
    act(engine, "dispatcher", second, "classify", {**data, "category": "hazardous_chemicals"})
    kind, text = _inbox(engine, MEMBER, second)[0]
    assert kind == "classified" and number in text


def test_the_department_hears_extension_decisions_rework_and_instructions(engine, clock):
    case = to_rectify(engine)
    act(engine, "dept_yjj", case, "rectify", EXTEND)
    act(engine, "dispatcher", case, "approve_extension", {"approved": False, "opinion": "理由不足"})
    assert _inbox(engine, "dept_yjj", case)[0] == (
        "extension",
        "延期未批准：南门化工仓库（理由不足），整改期限仍为 "
        + engine.instance(case)["data"]["deadline"][:10],
    )
    act(engine, "dept_yjj", case, "rectify", EXTEND)
    act(engine, "dispatcher", case, "approve_extension", {"approved": True})
    assert _inbox(engine, "dept_yjj", case)[0][0] == "extension"
    assert "2026-12-30" in _inbox(engine, "dept_yjj", case)[0][1]

    deadline = parse_iso(engine.instance(case)["data"]["deadline"])
    clock.set(deadline + timedelta(minutes=1))
    engine.fire_due_timers()
    kinds = [k for k, _t in _inbox(engine, "dispatcher", case)]
    assert kinds[0] == "overdue"
    act(engine, "leader_ap_d1_t1_v1", case, "supervise", {"instructions": "三日内整改到位"})
    assert _inbox(engine, "dept_yjj", case)[0] == (
        "instruction",
        "领导批示（南门化工仓库）：三日内整改到位",
    )
    next_at = min(parse_iso(t["fire_at"]) for t in engine.instance(case)["timers"])
    clock.set(next_at)
    engine.fire_due_timers()
    assert [k for k, _t in _inbox(engine, "dispatcher", case)][0] == "escalation"

    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": False, "verify_opinion": "隔离墙未封顶"})
    # the fresh round's reminder, already due, may come in the same step
    texts = [text for kind, text in _inbox(engine, "dept_yjj", case) if kind == "rework"]
    assert texts == ["复查未通过：南门化工仓库 须返工（复查意见：隔离墙未封顶）"]
