"""Moving running cases to a new version of hazard.bpmn: previewed, moved where the spec diff
says it is safe (task ids, claims, timers and data kept; the open step takes its new
definition), refused with the step named where not; through real persistence."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from tests.helpers import (
    MAJOR_PLAN,
    RECTIFY_REPORT,
    accept,
    act,
    open_task,
    open_task_names,
    report,
    to_rectify,
)

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


def _edit(folder: Path, change) -> None:
    path = folder / "hazard.bpmn"
    tree = etree.parse(str(path))
    change(tree)
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")


def _rename_rectify(tree) -> None:
    (task,) = [t for t in tree.iter(f"{BPMN}userTask") if t.get("id") == "rectify"]
    task.set("name", "整改落实")


def _remove_set_deadline(tree) -> None:
    """Take out the script task that computes the deadline, its flows joined up."""
    root = tree.getroot()
    step = next(e for e in root.iter() if e.get("id") == "set_deadline")
    flows = {f.get("id"): f for f in root.iter(f"{BPMN}sequenceFlow")}
    incoming = next(f for f in flows.values() if f.get("targetRef") == "set_deadline")
    outgoing = next(f for f in flows.values() if f.get("sourceRef") == "set_deadline")
    incoming.set("targetRef", outgoing.get("targetRef"))
    for gone in (step, outgoing):
        gone.getparent().remove(gone)
    for ref in list(root.iter(f"{BPMN}flowNodeRef", f"{BPMN}incoming", f"{BPMN}outgoing")):
        if ref.text in ("set_deadline", outgoing.get("id")):
            ref.getparent().remove(ref)
    for shape in list(root.iter("{*}BPMNShape", "{*}BPMNEdge")):
        if shape.get("bpmnElement") in ("set_deadline", outgoing.get("id")):
            shape.getparent().remove(shape)


def _parts_in_sequence(tree) -> None:
    """The departments' parts one after the other instead of side by side."""
    (stage,) = [s for s in tree.iter(f"{BPMN}subProcess") if s.get("id") == "department_parts"]
    stage.find(f"{BPMN}multiInstanceLoopCharacteristics").set("isSequential", "true")


def _joint_at_rectify(engine) -> int:
    """A case of the lead yjj and the cooperating zjj, both parts signed for, rectifying."""
    case = report(engine)
    accept(engine, case)
    days = engine.instance(case)["data"]["deadline_days"]
    dispatch = {"department": "yjj", "deadline_days": days, "cooperating_departments": ["zjj"]}
    act(engine, "dispatcher", case, "dispatch", dispatch)
    for dept in ("yjj", "zjj"):
        act(engine, f"dept_{dept}", case, "receive", {"decision": "accept"})
    assert open_task_names(engine, case) == ["rectify", "rectify"]
    return case


def test_a_case_at_rectify_moves_keeping_its_task_claim_and_timers(engine, folder):
    case = to_rectify(engine, grade="major")
    dept = engine.actor("dept_yjj")
    task = open_task(engine, "dept_yjj", case, "rectify")
    engine.claim(task["id"], dept)
    timers_before = {(t["task_name"], t["fire_at"]) for t in engine.timers()}
    _edit(folder, _rename_rectify)
    engine.deploy([folder])
    admin = engine.actor("admin")

    (preview,) = engine.migrate_cases("hazard_handling", admin, instance_ids=[case])
    assert preview["safe"] and not preview["migrated"]
    assert (preview["from_version"], preview["to_version"]) == (1, 2)
    assert any("rectify (整改)" in change for change in preview["changes"])
    assert open_task(engine, "dept_yjj", case, "rectify")["title"] == "整改"  # a preview only

    (moved,) = engine.migrate_cases(
        "hazard_handling", admin, instance_ids=[case], comment="新版整改环节", dry_run=False
    )
    assert moved["migrated"]
    after = open_task(engine, "dept_yjj", case, "rectify")
    assert after["id"] == task["id"] and after["title"] == "整改落实"
    assert after["assignee"] == "dept_yjj"
    assert {(t["task_name"], t["fire_at"]) for t in engine.timers()} == timers_before
    detail = engine.instance(case)
    assert detail["version"] == 2
    (event,) = [e for e in detail["history"] if e["action"] == "migrate"]
    assert event["actor"] == "admin" and event["comment"] == "新版整改环节"

    # the case goes on to its end on the new version
    act(engine, "dept_yjj", case, "rectify", {**RECTIFY_REPORT, "plan": MAJOR_PLAN})
    act(engine, "dispatcher", case, "verify", {"passed": True})
    assert engine.instance(case)["status"] == "completed"
    assert engine.verify_audit().ok


def test_a_case_that_passed_a_removed_step_stays_and_is_told_why(engine, folder):
    case = to_rectify(engine)
    _edit(folder, _remove_set_deadline)
    engine.deploy([folder])
    admin = engine.actor("admin")
    (refused,) = engine.migrate_cases("hazard_handling", admin, dry_run=False)
    assert refused["instance_id"] == case
    assert not refused["safe"] and not refused["migrated"]
    assert any("set_deadline (计算整改期限)" in reason for reason in refused["refusals"])
    detail = engine.instance(case)
    assert detail["version"] == 1
    assert not [e for e in detail["history"] if e["action"] == "migrate"]
    assert open_task_names(engine, case) == ["rectify"]
    (again,) = engine.migrate_cases("hazard_handling", admin)  # asked again: still refused
    assert again["instance_id"] == case and not again["safe"]


def test_bulk_moves_the_safe_ones_and_refuses_the_rest(engine, folder):
    first, second = to_rectify(engine), to_rectify(engine)
    done = to_rectify(engine)
    act(
        engine,
        "dept_" + engine.instance(done)["data"]["department"],
        done,
        "rectify",
        RECTIFY_REPORT,
    )
    act(engine, "dispatcher", done, "verify", {"passed": True})
    _edit(folder, _rename_rectify)
    engine.deploy([folder])
    records = engine.migrate_cases("hazard_handling", engine.actor("admin"), dry_run=False)
    assert [r["instance_id"] for r in records] == [first, second]  # closed cases stay
    assert all(r["migrated"] for r in records)
    refused = engine.migrate_cases(
        "hazard_handling", engine.actor("admin"), instance_ids=[first, done], dry_run=False
    )
    assert "already" in refused[0]["refusals"][0]
    assert refused[1]["refusals"][0] == "the case is closed"


def test_a_joint_case_moves_with_each_part_and_its_parts_complete_on_the_new_version(
    engine, folder
):
    case = _joint_at_rectify(engine)
    tasks = {d: open_task(engine, f"dept_{d}", case, "rectify") for d in ("yjj", "zjj")}
    engine.claim(tasks["zjj"]["id"], engine.actor("dept_zjj"))
    timers_before = {(t["task_name"], t["fire_at"]) for t in engine.timers()}
    _edit(folder, _rename_rectify)
    engine.deploy([folder])

    (moved,) = engine.migrate_cases(
        "hazard_handling", engine.actor("admin"), instance_ids=[case], dry_run=False
    )
    assert moved["migrated"], moved["refusals"]
    for dept, before in tasks.items():
        after = open_task(engine, f"dept_{dept}", case, "rectify")
        assert after["id"] == before["id"] and after["title"] == "整改落实"
    assert open_task(engine, "dept_zjj", case, "rectify")["assignee"] == "dept_zjj"
    assert {(t["task_name"], t["fire_at"]) for t in engine.timers()} == timers_before

    # the new version's multi-instance hears the old version's instances complete
    engine.live.clear()  # and from the database, as another server process would
    act(engine, "dept_zjj", case, "rectify", RECTIFY_REPORT)
    assert open_task_names(engine, case) == ["rectify"]
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    assert open_task_names(engine, case) == ["verify"]
    act(engine, "dispatcher", case, "verify", {"passed": True})
    done = engine.instance(case)
    assert done["status"] == "completed" and done["version"] == 2
    assert [p["status"] for p in done["data"]["parts"]] == ["reported", "reported"]
    assert engine.verify_audit().ok


def test_a_case_inside_parts_whose_loop_changed_stays_and_is_told_why(engine, folder):
    case = _joint_at_rectify(engine)
    _edit(folder, _parts_in_sequence)
    engine.deploy([folder])
    (refused,) = engine.migrate_cases(
        "hazard_handling", engine.actor("admin"), instance_ids=[case], dry_run=False
    )
    assert not refused["safe"] and not refused["migrated"]
    (code,) = refused["refusal_codes"]
    assert code["code"] == "migration_loop_changed" and code["element"] == "department_parts"
    assert "typename" in code["what"]
    assert engine.instance(case)["version"] == 1
    assert open_task_names(engine, case) == ["rectify", "rectify"]
