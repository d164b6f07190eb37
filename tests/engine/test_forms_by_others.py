"""Forms written by others: "these fields only" (`additionalProperties: false`) can be
completed, and a task's read-only fields sent back as they were given are accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import FormInvalid

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
    targetNamespace="x">
  <bpmn:process id="strict" name="严格表单" isExecutable="true">
    <bpmn:startEvent id="start">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="form" value="report"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:userTask id="review" name="审核"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
REPORT = {
    "type": "object",
    "title": "上报",
    "properties": {
        "unit": {"type": "string", "title": "单位"},
        "grade": {"type": "string", "title": "等级"},
        "note": {"type": "string", "title": "备注"},
    },
    "required": ["unit", "grade"],
}
REVIEW = {  # the case also has `note`, which this form does not have
    "type": "object",
    "title": "审核",
    "additionalProperties": False,
    "properties": {
        "unit": {"type": "string", "title": "单位", "readOnly": True},
        "grade": {"type": "string", "title": "等级", "readOnly": True},
        "passed": {"type": "boolean", "title": "通过"},
        "plan": {"type": "string", "title": "整改方案"},
    },
    "required": ["passed"],
    "allOf": [  # reads the case: a major one needs a plan
        {
            "if": {"properties": {"grade": {"const": "major"}}, "required": ["grade"]},
            "then": {"required": ["plan"]},
        }
    ],
}


@pytest.fixture
def strict(bare_engine, tmp_path: Path):
    folder = tmp_path / "strict"
    (folder / "forms").mkdir(parents=True)
    (folder / "strict.bpmn").write_text(BPMN, encoding="utf-8")
    for name, form in (("report", REPORT), ("review", REVIEW)):
        (folder / "forms" / f"{name}.json").write_text(json.dumps(form), encoding="utf-8")
    bare_engine.deploy([folder])
    return bare_engine


def _review(engine, grade: str = "general") -> dict:
    data = {"unit": "南门仓库", "grade": grade, "note": "夜间发现"}
    case = engine.start("strict", data, engine.actor("dispatcher"))
    (task,) = engine.instance(case)["open_tasks"]
    return engine.task(task["id"], engine.actor("admin"))


def test_a_form_of_these_fields_only_can_be_completed(strict):
    task = _review(strict)
    strict.complete(task["id"], strict.actor("admin"), {"passed": True})
    assert strict.instance(task["instance_id"])["status"] == "completed"


def test_its_rules_still_read_the_case(strict):
    task = _review(strict, grade="major")
    with pytest.raises(FormInvalid) as refused:
        strict.complete(task["id"], strict.actor("admin"), {"passed": True})
    assert set(refused.value.fields) == {"plan"}
    strict.complete(task["id"], strict.actor("admin"), {"passed": True, "plan": "停产整顿"})


def test_a_field_the_form_does_not_have_is_refused(strict):
    task = _review(strict)
    with pytest.raises(FormInvalid) as refused:
        strict.complete(task["id"], strict.actor("admin"), {"passed": True, "extra": 1})
    assert set(refused.value.fields) == {"extra"}


def test_read_only_fields_sent_back_unchanged_are_accepted(strict):
    task = _review(strict)
    sent = {**task["data"], "passed": False}  # all it was given, note included
    strict.complete(task["id"], strict.actor("admin"), sent)
    detail = strict.instance(task["instance_id"])
    assert detail["status"] == "completed" and detail["data"]["grade"] == "general"


def test_a_changed_read_only_field_is_refused_naming_it(strict):
    task = _review(strict)
    with pytest.raises(FormInvalid) as refused:
        strict.complete(
            task["id"], strict.actor("admin"), {**task["data"], "grade": "major", "passed": True}
        )
    reason = refused.value.reasons["grade"]
    assert set(refused.value.fields) == {"grade"}
    assert (reason.code, reason.params["title"]) == ("readonly", "等级")
    assert strict.instance(task["instance_id"])["status"] == "running"
