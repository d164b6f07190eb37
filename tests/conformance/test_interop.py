"""The interop corpus (files made with the Camunda Modeler, Flowable, Activiti, Operaton, bpmn-js
and SpiffArena) through the engine, as a process author would try each file: no traceback, no
vendor attribute ignored in silence, every refusal naming its element; docs/interop.md is the
report of this engine. The corpus is read from ../shared/corpus/interop, never copied here;
without it these tests are skipped. The corpus runs on SQLite (the engine's database adds
nothing to what a file means); the Camunda and Operaton files driven end to end below run on
both databases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine import FormInvalid
from engine.config import PROJECT_ROOT
from engine.tasks import TaskQuery
from tests.conformance import interop

CORPUS = interop.corpus_dir()
FILES = interop.deployments(CORPUS) if CORPUS else {}
DECISIONS = sorted(CORPUS.rglob("*.dmn")) if CORPUS else []
NO_CORPUS = pytest.mark.skip(reason=f"no interop corpus: set {interop.CORPUS_ENV}")
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="no interop corpus")

VENDORS = {
    "http://camunda.org/schema/1.0/bpmn",
    "http://operaton.org/schema/1.0/bpmn",
    "http://flowable.org/bpmn",
    "http://activiti.org/bpmn",
    "http://camunda.org/schema/zeebe/1.0",
    "http://camunda.org/schema/1.0/dmn",
    "http://operaton.org/schema/1.0/dmn",
}
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
SPIFF_OURS = {  # the spiffworkflow extensions of our contract (processes/README.md §4)
    "calledDecisionId",
    "preScript",
    "postScript",
    "messagePayload",
    "messageVariable",
    "processVariableCorrelation",
    "variableName",
    "payloadExpression",
}
EDITOR_ONLY = {"modelerTemplate", "modelerTemplateVersion"}  # the modeler's own notes
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def _owner(element: Any) -> str | None:
    while element is not None and not element.get("id"):
        element = element.getparent()
    return element.get("id") if element is not None else None


def _runs(element: Any) -> bool:
    while element is not None:
        if element.tag == f"{BPMN}process":
            return element.get("isExecutable", "true").lower() != "false"
        element = element.getparent()
    return True


def vendor_items(path: Path) -> list[tuple[str | None, str]]:
    """(element id, name) of every vendor attribute and extension element of a file, in the
    processes that run (a diagram is refused whole)."""
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    items = []
    for element in tree.iter():
        if not isinstance(element.tag, str) or not _runs(element):
            continue
        if re.search(r"/(DI|DC|DMNDI)/?$", etree.QName(element).namespace or ""):
            continue  # the diagram's layout
        for name in element.attrib:
            qname = etree.QName(name)
            if qname.namespace in VENDORS and qname.localname not in EDITOR_ONLY:
                items.append((_owner(element), qname.localname))
        parent = element.getparent()
        if parent is not None and parent.tag == f"{BPMN}extensionElements":
            namespace = etree.QName(element).namespace
            if namespace in VENDORS or (
                namespace == SPIFF and element.tag.split("}")[1] not in SPIFF_OURS | {"properties"}
            ):
                items.append((_owner(parent), etree.QName(element).localname))
    return items


def _spec(compiled: dict, element: str | None) -> tuple[Any, Any]:
    for process in compiled.values():
        for spec in (process.spec, *process.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                if task_spec.bpmn_id == element:
                    return process, task_spec
    return None, None


def _mapped(result: interop.FileResult, element: str | None, name: str) -> bool:
    """Whether what a vendor attribute means shows in the compiled process (processes/README.md
    §12 lists these mappings)."""
    process, spec = _spec(result.compiled, element)
    if spec is None:
        return False
    task = process.human_tasks.get(spec.name)
    kind = type(spec).__name__
    if name in ("candidateGroups", "candidateUsers", "assignee"):
        return bool(task and task.candidates)
    if name in ("formKey", "formData", "formProperty"):
        return bool(task and task.form_key) or (kind == "StartEvent" and bool(process.start_form))
    if name == "dueDate":
        return bool(task and task.due)
    if name in ("decisionRef", "type", "field", "resultVariable", "mapDecisionResult"):
        return kind == "BusinessRuleTask"
    if name in ("collection", "elementVariable"):
        return "MultiInstance" in kind
    if name in ("in", "out"):
        return kind == "CallActivity"
    if name == "inputOutput":
        return bool(spec.prescript or spec.postscript)
    if name == "properties":
        return bool((getattr(spec, "extensions", None) or {}).get("properties"))
    return False


MAPPED = {  # what the engine reads of other modelers' files (processes/README.md §12)
    "candidateGroups",
    "candidateUsers",
    "assignee",
    "formKey",
    "formData",
    "formProperty",
    "dueDate",
    "decisionRef",
    "type",
    "field",
    "resultVariable",
    "mapDecisionResult",
    "collection",
    "elementVariable",
    "in",
    "out",
    "inputOutput",
    "properties",
}


def silently_ignored(result: interop.FileResult, path: Path) -> list[tuple[str | None, str]]:
    """The vendor attributes no finding names and the engine does not read: none may be.
    In a file that deploys, what is read must show in the compiled process."""
    findings = [*result.refusals, *result.warnings]
    ignored = []
    for element, name in vendor_items(path):
        if any(p.element == element and name in p.message for p in findings):
            continue
        read = _mapped(result, element, name) if result.deploys else name in MAPPED
        if not read:
            ignored.append((element, name))
    return ignored


def _names_its_element(problem: Any) -> bool:
    """A refusal names its element; one of the file itself says where (a line of XML that
    does not parse, a file that holds no process)."""
    return bool(problem.element) or "line" in problem.message or "no process" in problem.message


@pytest.mark.parametrize(
    "file", list(FILES) or [pytest.param(None, id="no-corpus", marks=NO_CORPUS)]
)
def test_every_file_gets_an_answer(file, tmp_path):
    paths, processes = FILES[file]
    result = interop.run_file(CORPUS, file, paths, processes, tmp_path)
    assert result.crash is None, result.crash
    assert not [r.process_id for r in result.runs if r.outcome.crashed], result.runs
    assert all(_names_its_element(p) for p in result.refusals), result.refusals
    assert all(w.element for w in result.warnings), result.warnings
    assert silently_ignored(result, paths[0]) == []


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in DECISIONS]
    or [pytest.param(None, id="no-corpus", marks=NO_CORPUS)],
)
def test_every_decision_file_gets_an_answer(path):
    result, _compiled = interop.check_file(CORPUS, path.name, [path])
    assert result.crash is None, result.crash
    found = [p for p in result.refusals if p.file != "no BPMN file"]
    assert all(p.element for p in found), found
    assert not [
        (e, n)
        for e, n in vendor_items(path)
        if not any(p.element == e and n in p.message for p in [*result.refusals, *result.warnings])
        and n != "inputVariable"
    ]


@needs_corpus
def test_docs_interop_is_the_report_of_this_engine():
    """`make interop` wrote docs/interop.md from a run of this engine: run again, same text."""
    results = interop.run_corpus(CORPUS)
    total = sum(1 for p in CORPUS.rglob("*") if interop.is_bpmn(p) or p.suffix == ".dmn")
    report = interop.markdown(results, interop.check_decisions(CORPUS, results), total)
    written = (PROJECT_ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    assert written == report, "docs/interop.md is out of date: run `make interop`"


# --- end to end, with real persistence on both databases ---------------------------------

CAMUNDA_MODELER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_1"
    targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler"
    exporterVersion="5.31.0" modeler:executionPlatform="Camunda Platform"
    modeler:executionPlatformVersion="7.22.0">
  <bpmn:process id="job_posting" name="Job posting" isExecutable="true"
      camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="describe" name="Describe the role" camunda:candidateGroups="engineering">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="describe"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="describe" targetRef="EndEvent_1"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="p" bpmnElement="job_posting">
    <bpmndi:BPMNShape id="s" bpmnElement="describe">
      <dc:Bounds x="270" y="77" width="100" height="80"/>
    </bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_camunda_candidate_groups_give_the_task_to_that_group(bare_engine, tmp_path):
    path = tmp_path / "job_posting.bpmn"
    path.write_text(CAMUNDA_MODELER, encoding="utf-8")
    bare_engine.add_user("engineer", roles=["engineering"])
    bare_engine.deploy([path])
    case = bare_engine.start("job_posting", {}, bare_engine.actor("dispatcher"))
    bare_engine.live.clear()  # the task as the database has it
    (task,) = bare_engine.tasks_for(bare_engine.actor("engineer"), TaskQuery(instance_id=case))
    assert task["task_name"] == "describe"
    for other in ("dispatcher", "admin"):
        assert bare_engine.tasks_for(bare_engine.actor(other), TaskQuery(instance_id=case)) == []
    bare_engine.complete(task["id"], bare_engine.actor("engineer"), {})
    assert bare_engine.instance(case)["end_event"] == "EndEvent_1"


@needs_corpus
def test_an_operaton_file_runs_with_its_groups_forms_and_juel(bare_engine):
    """core-examples/user-task-forms: operaton:candidateGroups, operaton:formData and a JUEL
    condition, as the Operaton example deploys it."""
    paths, _processes = FILES[
        "operaton-examples/core-examples__user-task-forms__leave-request.bpmn"
    ]
    for username, role in (("employee", "employees"), ("manager", "managers")):
        bare_engine.add_user(username, roles=[role])
    bare_engine.deploy(paths)
    case = bare_engine.start("leave-request", {}, bare_engine.actor("dispatcher"))

    def work(username: str, data: dict) -> None:
        bare_engine.live.clear()
        (task,) = bare_engine.tasks_for(bare_engine.actor(username), TaskQuery(instance_id=case))
        bare_engine.complete(task["id"], bare_engine.actor(username), data)

    assert bare_engine.tasks_for(bare_engine.actor("manager"), TaskQuery(instance_id=case)) == []
    request = {"employeeName": "李明", "startDate": "2026-03-09", "leaveType": "annual"}
    with pytest.raises(FormInvalid) as refused:
        work("employee", {**request, "leaveType": "holiday"})  # not one of its choices
    assert set(refused.value.fields) == {"leaveType"}
    work("employee", request)
    work("manager", {"approved": True})
    assert bare_engine.instance(case)["end_event"] == "EndEvent_LeaveApproved"


BROKEN_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="d" name="d" namespace="x">
  <decision id="fee" name="收费" camunda:historyTimeToLive="30">
    <decisionTable hitPolicy="FIRST">
      <input label="金额"><inputExpression typeRef="integer"><text>amount</text>
      </inputExpression></input>
      <output name="fee" typeRef="integer"/>
      <rule><inputEntry><text>[1..10]</text></inputEntry>
        <outputEntry><text>amount *</text></outputEntry></rule>
      <rule><inputEntry><text>__builtins__</text></inputEntry>
        <outputEntry><text>0</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.mark.slow
def test_hazardflow_validate_shows_what_is_wrong_in_a_decision_file(tmp_path):
    """A table as the Camunda Modeler writes one (no ids on its rules, FEEL ranges) with a
    broken output and an input entry reaching for `__builtins__`: `validate` names the
    decision and each rule (exit 1, no traceback), where SpiffWorkflow said "KeyError: 'id'"
    and the sandbox would have stopped the rule only when it ran."""
    dmn = tmp_path / "fee.dmn"
    dmn.write_text(BROKEN_DMN, encoding="utf-8")
    hazardflow = str(Path(sys.executable).with_name("hazardflow"))
    env = {**os.environ, "HAZARDFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run(
        [hazardflow, "validate", str(dmn)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "fee.dmn: fee: rule 1 output: 'amount *' is not an expression" in done.stderr
    assert "fee.dmn: fee: rule 2 input '金额'" in done.stderr and "__builtins__" in done.stderr
