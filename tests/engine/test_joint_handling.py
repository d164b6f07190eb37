"""Joint handling (牵头 / 配合): a responsible department, cooperating departments each with a
part of their own, informed-only departments; the real processes/ files, SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import parse_iso
from engine.tasks import TaskQuery
from tests.helpers import RECTIFY_REPORT, accept, act, open_task, open_task_names, report


def _joint(engine, cooperating=("zjj", "xf"), informed=("jtj",)) -> int:
    case = report(engine)
    accept(engine, case)
    data = engine.instance(case)["data"]
    act(
        engine,
        "dispatcher",
        case,
        "dispatch",
        {
            "department": "yjj",
            "deadline_days": data["deadline_days"],
            "cooperating_departments": list(cooperating),
            "informed_departments": list(informed),
        },
    )
    return case


def _parts(engine, case) -> dict[str, dict]:
    return {p["department"]: p for p in engine.instance(case)["data"]["parts"]}


def _task_data(engine, case) -> list[dict]:
    """The open tasks' own data (what the statistics read per department), from the state."""
    from engine.models import Instance
    from engine.serialization import load_state

    with engine.db.reading() as session:
        instance = session.get(Instance, case)
        compiled = engine.compiled.by_id(session, instance.process_version_id)
        workflow = load_state(instance.state, compiled.spec, compiled.subprocess_specs, None)
    open_ids = {t["id"] for t in engine.instance(case)["open_tasks"]}
    return [
        {"task_name": t.task_spec.bpmn_id, **t.data}
        for t in workflow.get_tasks()
        if str(t.id) in open_ids
    ]


def test_three_departments_one_returns_all_report_verified_archived(engine):
    case = _joint(engine)
    # each department has its own 签收 task, in parallel
    assert open_task_names(engine, case) == ["receive", "receive", "receive"]
    parts = _parts(engine, case)
    assert [p["department"] for p in engine.instance(case)["data"]["parts"]] == ["yjj", "zjj", "xf"]
    assert parts["yjj"]["role"] == "lead" and parts["zjj"]["role"] == "cooperate"
    assert engine.instance(case)["data"]["department"] == "yjj"  # the case's: the lead's
    # each part's task carries that part's data under the single-department names
    own = {d["department"]: d for d in _task_data(engine, case)}
    assert set(own) == {"yjj", "zjj", "xf"}
    for dept, role in (("yjj", "lead"), ("zjj", "cooperate"), ("xf", "cooperate")):
        assert own[dept]["part_role"] == role
        assert own[dept]["deadline"] == parts[dept]["deadline"]
        assert own[dept]["dispatched_at"] == parts[dept]["dispatched_at"]
        assert own[dept]["overdue"] is False and own[dept]["escalation_level"] == 0
        for counter in ("returns_count", "rework_count", "extensions_count"):
            assert own[dept][counter] == 0

    act(engine, "dept_yjj", case, "receive", {"decision": "accept"})
    act(engine, "dept_zjj", case, "receive", {"decision": "accept"})
    act(engine, "dept_xf", case, "receive", {"decision": "return", "reason": "不涉及消防"})
    # the returned part goes back to the dispatcher; the others keep their progress
    assert open_task_names(engine, case) == ["dispatch"]
    shown = engine.instance(case)["data"]
    assert shown["return_reason"] == "xf：不涉及消防"
    assert _parts(engine, case)["xf"]["status"] == "returned"
    assert _parts(engine, case)["zjj"]["status"] == "accepted"
    dispatch = open_task(engine, "dispatcher", case, "dispatch")
    assert dispatch["queue"] == "部门退回"
    # re-dispatched to another cooperating department: only that part signs again
    act(
        engine,
        "dispatcher",
        case,
        "dispatch",
        {
            "department": "yjj",
            "deadline_days": shown["deadline_days"],
            "cooperating_departments": ["zjj", "scjgj"],
            "informed_departments": ["jtj"],
        },
    )
    assert open_task_names(engine, case) == ["receive"]
    assert [d["department"] for d in _task_data(engine, case)] == ["scjgj"]
    act(engine, "dept_scjgj", case, "receive", {"decision": "accept"})
    assert open_task_names(engine, case) == ["rectify", "rectify", "rectify"]
    assert engine.instance(case)["data"]["department"] == "yjj"

    act(engine, "dept_zjj", case, "rectify", RECTIFY_REPORT)
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    # verification waits until every part has reported
    assert open_task_names(engine, case) == ["rectify"]
    assert _parts(engine, case)["yjj"]["status"] == "reported"
    act(engine, "dept_scjgj", case, "rectify", RECTIFY_REPORT)
    assert open_task_names(engine, case) == ["verify"]
    act(engine, "dispatcher", case, "verify", {"passed": True})

    done = engine.instance(case)
    assert done["status"] == "completed" and done["end_event"] == "end_archived"
    assert {p["department"]: p["status"] for p in done["data"]["parts"]} == {
        "yjj": "reported",
        "zjj": "reported",
        "scjgj": "reported",
    }
    steps = [(e["task_name"], e["actor"]) for e in done["history"] if e["action"] == "complete"]
    assert ("receive", "dept_xf") in steps and ("rectify", "dept_scjgj") in steps
    assert engine.verify_audit().ok


def test_failed_verification_sends_the_lead_back_alone(engine):
    case = _joint(engine, cooperating=("zjj",), informed=())
    for dept in ("yjj", "zjj"):
        act(engine, f"dept_{dept}", case, "receive", {"decision": "accept"})
    for dept in ("yjj", "zjj"):
        act(engine, f"dept_{dept}", case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": False, "verify_opinion": "隔离墙未完工"})
    assert open_task_names(engine, case) == ["rectify"]
    open_task(engine, "dept_yjj", case, "rectify")
    parts = _parts(engine, case)
    assert parts["yjj"]["rework_count"] == 1 and parts["zjj"]["rework_count"] == 0
    assert engine.instance(case)["data"]["rework_count"] == 1


def test_each_part_has_its_own_deadline_and_escalation(engine, clock):
    case = _joint(engine, cooperating=("zjj",), informed=())
    for dept in ("yjj", "zjj"):
        act(engine, f"dept_{dept}", case, "receive", {"decision": "accept"})
    act(engine, "dept_zjj", case, "rectify", RECTIFY_REPORT)  # zjj's part is done
    deadline = parse_iso(_parts(engine, case)["yjj"]["deadline"])
    clock.set(deadline + timedelta(minutes=1))
    engine.fire_due_timers()
    # the lead's part is overdue: its leader supervises it, for yjj, not for zjj
    leader = engine.actor("leader_ap_d1_t1_v1")
    supervised = engine.tasks_for(leader, TaskQuery(instance_id=case))
    assert [t["task_name"] for t in supervised] == ["supervise"]
    shown = engine.instance(case)["data"]
    assert shown["overdue"] is True and shown["escalation_level"] == 0
    assert shown["department"] == "yjj"
    assert _parts(engine, case)["zjj"]["status"] == "reported"
    # one level up after the escalation period, still only for the lead's part
    next_at = min(parse_iso(t["fire_at"]) for t in engine.instance(case)["timers"])
    clock.set(next_at)
    engine.fire_due_timers()
    assert engine.instance(case)["data"]["escalation_level"] == 1
    up = engine.tasks_for(engine.actor("leader_ap_d1_t1"), TaskQuery(instance_id=case))
    assert [t["task_name"] for t in up] == ["supervise"]
    # the lead's rectify task is due at its own deadline
    assert parse_iso(open_task(engine, "dept_yjj", case, "rectify")["due_at"]) == deadline


def test_a_cooperating_part_overdue_escalates_while_the_lead_is_done(engine, clock):
    case = _joint(engine, cooperating=("zjj",), informed=())
    for dept in ("yjj", "zjj"):
        act(engine, f"dept_{dept}", case, "receive", {"decision": "accept"})
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    clock.set(parse_iso(_parts(engine, case)["zjj"]["deadline"]) + timedelta(minutes=1))
    engine.fire_due_timers()
    leader = engine.actor("leader_ap_d1_t1_v1")
    assert [t["task_name"] for t in engine.tasks_for(leader, TaskQuery(instance_id=case))] == [
        "supervise"
    ]
    overdue = engine.notifications(engine.actor("dispatcher"))["items"]
    assert any("zjj" in n["text"] and n["kind"] == "overdue" for n in overdue)
    lead_done = {d["task_name"]: d for d in _task_data(engine, case)}
    assert lead_done["supervise"]["department"] == "zjj"
    assert lead_done["supervise"]["overdue"] is True
    assert lead_done["rectify"]["department"] == "zjj"
    assert engine.instance(case)["data"]["department"] == "yjj"


def test_an_informed_department_sees_the_case_read_only_and_has_no_task(engine):
    case = _joint(engine, cooperating=("zjj",), informed=("jtj",))
    officer = engine.actor("dept_jtj")
    assert engine.tasks_for(officer, TaskQuery(instance_id=case)) == []
    inbox = engine.notifications(officer)["items"]
    assert [n["kind"] for n in inbox] == ["informed"]
    listed = engine.cases(officer)
    assert [c["id"] for c in listed["items"]] == [case]
    # a department neither working nor informed does not see it
    assert engine.cases(engine.actor("dept_nyj"))["items"] == []
