"""Validation through the engine knows the organisation: a dispatch rule routing to a
department there is none of, and a lane whose role no user has, are warned about by element
(they would deploy, and leave those cases to nobody)."""

from __future__ import annotations

from tests.conftest import PROCESSES


def test_a_rule_routing_to_no_department_and_a_lane_nobody_works_are_named(engine):
    base = engine.deployments()[0]["id"]
    table = (PROCESSES / "dispatch.dmn").read_text(encoding="utf-8")
    rule = '<outputEntry id="rule_fireworks_general_department"><text>"yjj"</text>'
    routed = table.replace(rule, rule.replace('"yjj"', '"ycj"'))
    bpmn = (PROCESSES / "hazard.bpmn").read_text(encoding="utf-8")
    relaned = bpmn.replace('name="dispatcher">', 'name="inspector">', 1)
    assert relaned != bpmn
    problems = engine.check_files(
        [("dispatch.dmn", routed.encode()), ("hazard.bpmn", relaned.encode())], base
    )
    found = {(p["file"], p["element"], p["severity"]) for p in problems}
    assert ("dispatch.dmn", "rule_fireworks_general", "warning") in found
    assert ("hazard.bpmn", "inspector", "warning") in found
    messages = " ".join(p["message"] for p in problems)
    assert "'ycj'" in messages and "'inspector'" in messages

    engine.change_organisation("add_department", "ycj", "烟草专卖局")
    again = engine.check_files([("dispatch.dmn", routed.encode())], base)
    assert [p for p in again if p["file"] == "dispatch.dmn"] == []
