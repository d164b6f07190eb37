"""Deploying process files: versions, caching, and refusals that name the element."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine import DeployRefused
from engine.models import Deployment
from tests.conftest import PROCESSES
from tests.helpers import RECTIFY_REPORT, accept, act, report, to_rectify

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_identical_redeploy_is_a_no_op(engine):
    again = engine.deploy([PROCESSES])
    assert not again.created
    with engine.db.reading() as session:
        assert session.query(Deployment).count() == 1


def test_running_instances_stay_on_their_version(engine, tmp_path):
    old_case = to_rectify(engine)
    changed = tmp_path / "processes"
    shutil.copytree(PROCESSES, changed)
    dmn = changed / "dispatch.dmn"
    dmn.write_text(dmn.read_text(encoding="utf-8").replace("<text>10</text>", "<text>7</text>"))
    result = engine.deploy([changed])
    assert result.created and result.versions["hazard_handling"] == 2
    new_case = report(engine)
    assert engine.instance(old_case)["version"] == 1
    assert engine.instance(new_case)["version"] == 2
    accept(engine, new_case)
    assert engine.instance(new_case)["data"]["deadline_days"] == 7
    # the old case still runs on version 1, restored from the database by a new engine
    engine.live.clear()
    engine.compiled.clear()
    act(engine, "dept_yjj", old_case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", old_case, "verify", {"passed": True})
    assert engine.instance(old_case)["end_event"] == "end_archived"


def _bpmn(body: str, process_id: str = "broken") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="http://example.com/x">
  <bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"""


START_TO_END = """
  <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="work" name="脚本"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
  <bpmn:endEvent id="finish"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work"/>
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="TARGET"/>
"""


def _case(script: str = "x = 1", target: str = "finish") -> str:
    return _bpmn(START_TO_END.replace("SCRIPT", script).replace("TARGET", target))


@pytest.mark.parametrize(
    ("content", "element", "words"),
    [
        ("<bpmn:definitions><oops", None, "malformed XML"),
        (_bpmn('<bpmn:task id="lonely"/>'), None, "start event"),
        (_case(target="nowhere"), "f2", "'nowhere' names no element"),
        (_case("__import__('os').system('touch /tmp/pwned')"), "work", "__import__"),
        (_case("x = ().__class__.__bases__"), "work", "dunder attribute"),
        (_case("x = open('/etc/passwd').read()"), "work", "open"),
        (  # SpiffWorkflow's parser did not read a script task's preScript: never checked
            _case().replace(
                "<bpmn:script>",
                '<bpmn:extensionElements><spiffworkflow:preScript xmlns:spiffworkflow="'
                'http://spiffworkflow.org/bpmn/schema/1.0/core">__import__("os")'
                "</spiffworkflow:preScript></bpmn:extensionElements><bpmn:script>",
            ),
            "work",
            "prescript: line 1: name '__import__'",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + _case().split("?>", 1)[1],
            None,
            "DOCTYPE",
        ),
    ],
    ids=["malformed", "no-start", "missing-target", "import", "dunder", "open", "prescript", "xxe"],
)
def test_bad_files_are_refused_naming_the_element(engine, tmp_path, content, element, words):
    bad = tmp_path / "bad.bpmn"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DeployRefused) as refused:
        engine.deploy([bad])
    problems = refused.value.problems
    assert any(words.lower() in p.message.lower() for p in problems), problems
    assert all(p.file == "bad.bpmn" for p in problems)
    if element:
        assert any(p.element == element for p in problems), problems
    with engine.db.reading() as session:
        assert session.query(Deployment).count() == 1  # only processes/, nothing new


def test_a_bad_timer_literal_is_refused_at_deploy(engine, tmp_path):
    body = """
  <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"P3X"</bpmn:timeDuration>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="finish"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="wait"/>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="finish"/>"""
    bad = tmp_path / "timer.bpmn"
    bad.write_text(_bpmn(body), encoding="utf-8")
    with pytest.raises(DeployRefused) as refused:
        engine.deploy([bad])
    assert [p.element for p in refused.value.problems] == ["wait"]


def test_a_second_process_runs_with_no_code_change(engine):
    result = engine.deploy([FIXTURES / "self_report"])
    assert result.versions == {"enterprise_self_report": 1}
    engine.add_user("boss", roles=["enterprise"], password="x")
    engine.add_user("town_officer", roles=["township"], password="x")
    case = engine.start(
        "enterprise_self_report",
        {"unit": "青石钢构厂", "category": "industry_trade", "description": "行车钢丝绳断股"},
        engine.actor("boss"),
    )
    assert engine.instance(case)["data"]["reviewer"] == "ajb"
    act(engine, "town_officer", case, "review", {"decision": "confirm"})
    assert engine.instance(case)["end_event"] == "end_confirmed"
    assert [p["process_id"] for p in engine.processes()] == [
        "enterprise_self_report",
        "hazard_handling",
    ]


def test_validate_warns_about_overlapping_rules_and_gaps(engine, tmp_path):
    folder = tmp_path / "route"
    shutil.copytree(FIXTURES / "self_report", folder)
    warnings: list = []
    engine.validate([folder], warnings)
    assert [w.message for w in warnings] == [
        "rules 1 and 2 overlap: row 2 is never used where row 1 matches"
    ]
    dmn = folder / "self_report_route.dmn"
    dmn.write_text(
        dmn.read_text(encoding="utf-8").replace("<text>-</text>", '<text>"industry_trade"</text>'),
        encoding="utf-8",
    )
    warnings.clear()
    engine.validate([folder], warnings)
    assert warnings == []  # every literal used is covered, no two rules meet
    table = PROCESSES / "dispatch.dmn"
    warnings.clear()
    engine.validate([PROCESSES], warnings)
    assert warnings == [], f"{table.name} must cover every category x grade once"


def test_validate_warns_about_codes_the_forms_allow_that_no_rule_covers(engine, tmp_path):
    """A category added to the forms without its rows in the dispatch table, and a rule
    whose category is a typo: each named, with the decision."""
    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    defs = folder / "forms" / "_defs.json"
    document = json.loads(defs.read_text(encoding="utf-8"))
    document["$defs"]["category"]["oneOf"].append({"const": "tobacco", "title": "烟草"})
    defs.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    table = folder / "dispatch.dmn"
    typo = table.read_text(encoding="utf-8").replace(
        '<inputEntry id="rule_fireworks_major_category"><text>"fireworks"</text>',
        '<inputEntry id="rule_fireworks_major_category"><text>"firework"</text>',
    )
    table.write_text(typo, encoding="utf-8")
    warnings: list = []
    engine.validate([folder], warnings)
    found = {(w.file, w.element, w.message) for w in warnings if w.file == "dispatch.dmn"}
    assert (
        "dispatch.dmn",
        "dispatch",
        "no rule matches 行业类别='tobacco', 隐患等级='general'",
    ) in found
    assert (
        "dispatch.dmn",
        "dispatch",
        "no rule matches 行业类别='fireworks', 隐患等级='major'",
    ) in found
    assert any(
        "'firework' is not one of the codes the forms allow for 行业类别" in m for *_f, m in found
    )
