"""The diagram of every process file is complete: each flow node, sequence flow, pool and lane
has its shape or edge (the case page draws the diagram with bpmn-js, which leaves out what
has none, and the admin modeler could not show it to be edited), nothing in the diagram
names an element that is gone, each step is drawn inside the stage it belongs to, and each
flow's line runs from its source's outline to its target's. And what the modeler would drop
when it saves the file is not there: a reference to no element."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import PROCESSES

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
# what is drawn as a shape: the flow nodes (BPMN 2.0 §10), the pools and the lanes
NODES = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "subProcess", "transaction", "callActivity", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
    "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "participant", "lane",
}  # fmt: skip
SLACK = 2  # how far (px) a line's end may be from its step's outline
FILES = sorted(PROCESSES.glob("*.bpmn"))


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _bounds(shape: etree._Element) -> tuple[float, float, float, float]:
    b = shape.find(f"{{{DC}}}Bounds")
    assert b is not None, f"the shape of {shape.get('bpmnElement')} has no bounds"
    x, y = float(b.get("x")), float(b.get("y"))
    return x, y, x + float(b.get("width")), y + float(b.get("height"))


class Diagram:
    def __init__(self, path: Path) -> None:
        root = etree.parse(str(path)).getroot()
        self.root = root
        self.elements = {
            e.get("id"): e
            for e in root.iter(f"{{{MODEL}}}*")
            if e.get("id") and _local(e) in NODES | {"sequenceFlow"}
        }
        self.shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
        self.edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{BPMNDI}}}BPMNEdge")}

    def of_kind(self, *kinds: str) -> list[str]:
        return [i for i, e in self.elements.items() if _local(e) in kinds]


@pytest.fixture(params=FILES, ids=[f.name for f in FILES])
def diagram(request: pytest.FixtureRequest) -> Diagram:
    return Diagram(request.param)


def test_the_processes_folder_has_a_diagram_to_check():
    assert any(f.name == "hazard.bpmn" for f in FILES)


def test_every_step_pool_and_lane_has_a_shape(diagram):
    missing = [i for i in diagram.of_kind(*NODES) if i not in diagram.shapes]
    assert not missing, f"no BPMNShape for {missing}"


def test_every_sequence_flow_has_an_edge(diagram):
    missing = [i for i in diagram.of_kind("sequenceFlow") if i not in diagram.edges]
    assert not missing, f"no BPMNEdge for {missing}"
    for flow in diagram.of_kind("sequenceFlow"):
        points = diagram.edges[flow].findall(f"{{{DI}}}waypoint")
        assert len(points) >= 2, f"the edge of {flow} has fewer than two waypoints"


def test_the_diagram_names_only_elements_that_exist(diagram):
    stale = [i for i in [*diagram.shapes, *diagram.edges] if i not in diagram.elements]
    assert not stale, f"diagram elements for what the process no longer has: {stale}"


def test_each_step_is_drawn_inside_its_stage(diagram):
    for node in diagram.of_kind(*(NODES - {"participant", "lane"})):
        stage = diagram.elements[node].getparent()
        if _local(stage) not in ("subProcess", "transaction"):
            continue
        x1, y1, x2, y2 = _bounds(diagram.shapes[node])
        sx1, sy1, sx2, sy2 = _bounds(diagram.shapes[stage.get("id")])
        if _local(diagram.elements[node]) == "boundaryEvent":  # sits on its task's edge
            x1, y1, x2, y2 = (x1 + x2) / 2, (y1 + y2) / 2, (x1 + x2) / 2, (y1 + y2) / 2
        assert sx1 <= x1 and x2 <= sx2 and sy1 <= y1 and y2 <= sy2, (
            f"{node} is drawn outside the stage {stage.get('id')} it belongs to"
        )


def _touches(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    """Whether the point lies on the outline of the box (a gateway's corners and an event's
    sides are on it too), give or take SLACK."""
    x, y = point
    x1, y1, x2, y2 = box
    within = x1 - SLACK <= x <= x2 + SLACK and y1 - SLACK <= y <= y2 + SLACK
    return within and min(abs(x - x1), abs(x - x2), abs(y - y1), abs(y - y2)) <= SLACK


def test_each_flow_runs_from_its_source_to_its_target(diagram):
    for flow in diagram.of_kind("sequenceFlow"):
        element = diagram.elements[flow]
        points = [
            (float(p.get("x")), float(p.get("y")))
            for p in diagram.edges[flow].findall(f"{{{DI}}}waypoint")
        ]
        source = _bounds(diagram.shapes[element.get("sourceRef")])
        target = _bounds(diagram.shapes[element.get("targetRef")])
        assert _touches(points[0], source), f"{flow} does not start at {element.get('sourceRef')}"
        assert _touches(points[-1], target), f"{flow} does not end at {element.get('targetRef')}"


def test_each_loop_reference_names_an_element_the_modeler_keeps_it_to(diagram):
    """bpmn-js reads `loopDataInputRef`/`loopDataOutputRef` as references to an element's id
    and leaves out, when it saves, one that names none; SpiffWorkflow reads their text as a
    variable's name: the process declares each as a property (processes/README.md §2a)."""
    ids = {e.get("id") for e in diagram.root.iter() if isinstance(e.tag, str) and e.get("id")}
    for kind in ("loopDataInputRef", "loopDataOutputRef"):
        for ref in diagram.root.iter(f"{{{MODEL}}}{kind}"):
            assert ref.text in ids, f"{kind} {ref.text} names no element: the modeler drops it"
