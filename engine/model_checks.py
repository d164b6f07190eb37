"""What files from other modelers hold that SpiffWorkflow would misread or report badly:
checked on the XML before SpiffWorkflow parses it, and repaired where the meaning is plain
(a flow without an id, a bare ISO timer literal, a decision table without ids). Every finding
names its element, so that a process author can find it in the modeler.

BPMN: flows and nodes without ids, timers without a time or with a cron expression, scripts in
another language, call activities naming no process of the deployment, processes without an
end event (and nodes that lead nowhere). DMN: several decisions in one file (split), decision
requirements (required decisions evaluated first, in steps of their own), missing ids, FEEL
entries (engine/feel.py).
"""

from __future__ import annotations

import ast
import copy
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from . import feel
from .errors import Problem
from .wording import Text, Wording, wording

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MAX_SHOWN = 60  # of a name quoted in a message (an XSS test file has names of 2,000 characters)
PYTHON_FORMATS = {"", "python", "python3", "py", "text/python", "text/x-python"}
FLOW_NODES = {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
}


@dataclass
class Findings:
    """What the checks before SpiffWorkflow's parser found in one file. `problems` refuse a
    new deployment; `answered` are the elements they name, so that no second, vaguer answer
    about the same element is given."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)

    def refuse(self, element: str | None, message: Text, whole: bool = True) -> None:
        """`whole`: this is the answer about the element (other findings about it are
        dropped); else one of several about it (a rule of a decision)."""
        self.problems.append(Problem(self.file, element, message))
        if element and whole:
            self.answered.add(element)

    def warn(self, element: str | None, message: Text) -> None:
        self.warnings.append(Problem(self.file, element, message, "warning"))


def shown(text: str | None) -> str:
    """A name or value as a message quotes it: on one line, cut to a readable length."""
    text = " ".join((text or "").split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def local(element: Any) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


_IN_BPMN = f"{{{BPMN_NS}}}"


def is_bpmn(element: Any) -> bool:
    tag = element.tag
    return isinstance(tag, str) and tag.startswith(_IN_BPMN)


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def label(element: Any) -> str:
    """How a message names an element: its id, else its kind and name."""
    return element.get("id") or f"{local(element)} '{shown(element.get('name'))}'"


def where(element: Any) -> str:
    """The element a finding about an element without an id (a loop's characteristics, an
    extension) names: the nearest one around it that has an id."""
    found = element
    while found is not None and not found.get("id"):
        found = found.getparent()
    return label(found if found is not None else element)


# --- BPMN ------------------------------------------------------------------------------------


def name_flows(tree: etree._ElementTree, found: Findings) -> None:
    """A sequence flow without an id gets one (SpiffWorkflow keys flows by id: without one,
    every such flow of a node is the same flow, and the case stops where they part); a flow
    node without an id is refused, since nothing can point at it."""
    ids = {el.get("id") for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}
    for el in tree.iter(bpmn("sequenceFlow")):
        if el.get("id"):
            continue
        source, target = el.get("sourceRef") or "?", el.get("targetRef") or "?"
        base = re.sub(r"\W", "_", f"Flow_{source}_{target}")
        new, n = base, 1
        while new in ids:
            n += 1
            new = f"{base}_{n}"
        el.set("id", new)
        ids.add(new)
        found.warn(
            new,
            wording(
                "the sequence flow from '%(source)s' to '%(target)s' has no id: it is "
                "called '%(flow)s' here; give it an id in the modeler",
                source=shown(source),
                target=shown(target),
                flow=new,
            ),
        )
    for el in tree.iter():
        if is_bpmn(el) and local(el) in FLOW_NODES and not el.get("id"):
            found.refuse(
                label(el),
                wording("a %(kind)s needs an id: flows point at nodes by id", kind=local(el)),
            )


def runs(tree: etree._ElementTree) -> Iterator[Any]:
    """The file's BPMN elements that belong to processes that run (document order)."""
    todo = [tree.getroot()]
    while todo:
        element = todo.pop()
        if not is_bpmn(element):
            continue
        if element.tag == _PROCESS and element.get("isExecutable", "true").lower() == "false":
            continue
        yield element
        todo.extend(reversed(element))


_PROCESS = bpmn("process")


def check_bpmn(tree: etree._ElementTree, process_ids: set[str], found: Findings) -> None:
    """The checks on a file's BPMN after vendor extensions were read (engine/vendor.py)."""
    elements = list(runs(tree))
    diagram = not any(local(el) == "process" for el in elements)
    _check_data_stores(tree, found, diagram)
    if diagram:
        return  # diagrams only: refused as such
    _check_timers(elements, found)
    _check_scripts(elements, found)
    _check_calls(elements, process_ids, found)
    _check_gateways(elements, found)
    _check_ends(elements, found)


_TIMER_PARSERS: dict[str, Callable[[str], Any]] = {
    "timeDuration": TimerEventDefinition.parse_iso_duration,
    "timeDate": TimerEventDefinition.parse_time_or_duration,
    "timeCycle": TimerEventDefinition.parse_iso_recurring_interval,
}
_CRON = re.compile(r"\S+(\s+\S+){4,6}")


def _check_timers(elements: list[Any], found: Findings) -> None:
    """A timer without a time is refused (SpiffWorkflow: "Unknown Time Specification"); a bare
    ISO 8601 literal (`PT5M`, as Camunda and Flowable write it) is read as the text it is,
    where SpiffWorkflow would evaluate it as Python and fail when the timer starts; a cron
    expression is refused with the ISO form to write instead."""
    for definition in (e for e in elements if local(e) == "timerEventDefinition"):
        event = definition.getparent()
        element = label(event) if event is not None else None
        times = [c for c in definition if is_bpmn(c) and local(c) in _TIMER_PARSERS]
        if not times or not any((c.text or "").strip() for c in times):
            found.refuse(
                element,
                wording("the timer has no time: give it a timeDate, a timeDuration or a timeCycle"),
            )
            continue
        for child in times:
            text = (child.text or "").strip()
            if _iso_literal(local(child), text):
                child.text = repr(text)
            elif local(child) == "timeCycle" and _CRON.fullmatch(text) and not _python(text):
                found.refuse(
                    element,
                    wording(
                        "'%(cron)s' is a cron expression, which SpiffWorkflow does not read: "
                        "write an ISO 8601 repeating interval, e.g. R/PT5M (every 5 minutes) or "
                        "R3/PT1H (three times, an hour apart)",
                        cron=shown(text),
                    ),
                )


def _iso_literal(kind: str, text: str) -> bool:
    """Whether a timer text is an unquoted ISO 8601 value rather than a Python expression."""
    if not text or text[0] in "'\"" or not re.fullmatch(r"[0-9A-Z:.+\-/]+", text):
        return False
    try:
        _TIMER_PARSERS[kind](text)
    except Exception:
        return False
    return True


def _python(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _check_scripts(elements: list[Any], found: Findings) -> None:
    """Scripts run in the Python sandbox only: one in another language is refused naming the
    language (rather than a Python syntax error); a Python script indented as a whole (as a
    CDATA block often is) is read without that indentation."""
    for task in (e for e in elements if local(e) == "scriptTask"):
        language = (task.get("scriptFormat") or "").strip()
        if language.lower() not in PYTHON_FORMATS:
            found.refuse(
                label(task),
                wording(
                    "the script is written in %(language)s (scriptFormat): HazardFlow runs "
                    "Python scripts only, in its sandbox; rewrite it in Python",
                    language=shown(language),
                ),
            )
            continue
        script = task.find(bpmn("script"))
        if script is not None and script.text and script.text.strip():
            dedented = textwrap.dedent(script.text).strip("\n")
            if dedented != script.text and _parses(dedented) and not _parses(script.text):
                script.text = dedented


def _syntax_error(source: str) -> str | None:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError as exc:
        return exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        return type(exc).__name__
    return None


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _check_calls(elements: list[Any], process_ids: set[str], found: Findings) -> None:
    for call in (e for e in elements if local(e) == "callActivity"):
        called = (call.get("calledElement") or "").strip()
        if not called:
            found.refuse(
                label(call), wording("the call activity names no process to call (calledElement)")
            )
        elif "${" in called or "#{" in called:
            found.refuse(
                label(call),
                wording(
                    "calledElement '%(called)s' is an expression: the process a call "
                    "activity calls must be named, and deployed with it",
                    called=shown(called),
                ),
            )
        elif called not in process_ids:
            found.refuse(
                label(call),
                wording(
                    "calls process '%(process)s', which is not in this deployment: deploy "
                    "the file that defines it together with this one",
                    process=shown(called),
                ),
            )


def _check_gateways(elements: list[Any], found: Findings) -> None:
    """SpiffWorkflow's "Non-default exclusive outgoing sequence flow without condition", said
    so that an author knows what to do."""
    for gateway in (e for e in elements if local(e) in ("exclusiveGateway", "inclusiveGateway")):
        process = gateway.getparent()
        leaving = [
            f
            for f in process
            if local(f) == "sequenceFlow" and f.get("sourceRef") == gateway.get("id")
        ]
        if len(leaving) < 2:
            continue
        for flow in leaving:
            condition = flow.find(bpmn("conditionExpression"))
            has_condition = condition is not None and (condition.text or "").strip()
            if flow.get("id") != gateway.get("default") and not has_condition:
                name = shown(gateway.get("name")) or label(gateway)
                found.refuse(
                    flow.get("id"),
                    wording(
                        "the flow leaves the %(kind)s '%(gateway)s' without a "
                        "condition and is not its default flow: give it a condition, or make it "
                        'the gateway\'s default (default="%(flow)s")',
                        kind=local(gateway),
                        gateway=name,
                        flow=str(flow.get("id")),
                    ),
                )


def _check_data_stores(tree: etree._ElementTree, found: Findings, diagram: bool) -> None:
    """SpiffWorkflow refuses a data store without an implementation (and names nothing);
    the engine has none. In a file of diagrams only, that is not the answer to give."""
    for store in list(tree.iter(bpmn("dataStore"))):
        parent = store.getparent()
        if parent is not None:
            parent.remove(store)
        if diagram:
            continue
        found.refuse(
            store.get("id") or f"dataStore '{shown(store.get('name'))}'",
            wording(
                "the data store '%(store)s' has no implementation: HazardFlow "
                "keeps a case's data in its fields; remove the data store and its references",
                store=shown(store.get("name")),
            ),
        )


def _check_ends(elements: list[Any], found: Findings) -> None:
    """A case is done only when it reaches an end event (docs/architecture.md): a process
    with none could never finish, and a node leading nowhere stops its case with an error."""
    for process in (e for e in elements if local(e) == "process"):
        nodes = [c for c in process if is_bpmn(c) and local(c) in FLOW_NODES]
        if not any(local(n) == "startEvent" for n in nodes):
            found.refuse(
                process.get("id"),
                wording(
                    "the process has no start event: a case of it could never begin; "
                    "begin it with one"
                ),
            )
            continue
        if not any(local(n) == "endEvent" for n in nodes):
            found.refuse(
                process.get("id"),
                wording(
                    "the process has no end event: a case of it could never finish (HazardFlow "
                    "counts a case as done when it reaches an end event); end each path with one"
                ),
            )
            continue
        leaving = {f.get("sourceRef") for f in process.iter(bpmn("sequenceFlow"))}
        for node in nodes:
            if node.get("id") in leaving or not _needs_outgoing(node):
                continue
            found.warn(
                node.get("id"),
                wording(
                    "no sequence flow leaves it and it is not an end event: a case that gets "
                    "there stops with an error; lead it to an end event"
                ),
            )


def _needs_outgoing(node: Any) -> bool:
    kind = local(node)
    if kind == "endEvent" or node.get("isForCompensation") == "true":
        return False
    if kind == "subProcess" and node.get("triggeredByEvent") == "true":
        return False  # an event subprocess starts by itself and ends inside
    definitions = {local(c) for c in node if is_bpmn(c)}
    if kind == "intermediateThrowEvent" and "linkEventDefinition" in definitions:
        return False
    return not (kind == "boundaryEvent" and "compensateEventDefinition" in definitions)


# --- DMN -------------------------------------------------------------------------------------


def dmn_roots(root: Any, found: Findings) -> list[Any]:
    """The DMN document as SpiffWorkflow can read it: one document per decision (SpiffWorkflow
    reads the first decision of a file and fails on a second), with an id on every part it
    keys by id, FEEL entries in the Python it evaluates. A decision that is not a decision
    table is refused; one that requires others is chained to them (`chain_decisions`)."""
    decisions = [d for d in root if local(d) == "decision"]
    for decision in decisions:
        _check_decision(decision, found)
    if len(decisions) <= 1:
        return [root]
    documents = []
    for keep in decisions:
        document = copy.deepcopy(root)
        for other in [d for d in document if local(d) == "decision"]:
            if other.get("id") != keep.get("id"):
                document.remove(other)
        documents.append(document)
    return documents


def _check_decision(decision: Any, found: Findings) -> None:
    decision_id = decision.get("id") or f"decision '{shown(decision.get('name'))}'"
    tables = [t for t in decision if local(t) == "decisionTable"]
    if not tables:
        kinds = sorted(
            {local(c) for c in decision}
            - {
                "description",
                "extensionElements",
                "informationRequirement",
                "knowledgeRequirement",
                "authorityRequirement",
                "variable",
                "question",
                "allowedAnswers",
            }
        )
        found.refuse(
            decision_id,
            wording(
                "the decision is a %(kinds)s, not a decision table: "
                "SpiffWorkflow reads decision tables only",
                kinds=", ".join(kinds),
            )
            if kinds
            else wording(
                "the decision is a nothing, not a decision table: "
                "SpiffWorkflow reads decision tables only"
            ),
        )
        return
    for n, table in enumerate(tables, 1):
        _give_ids(table, f"{decision_id}_table{n}")
        rules = [r for r in table if local(r) == "rule"]
        for row, rule in enumerate(rules, 1):
            for entry in (e for e in rule if local(e) == "outputEntry"):
                text = next((c for c in entry if local(c) == "text"), None)
                source = (text.text or "").strip() if text is not None else ""
                error = _syntax_error(source) if source else None
                if text is not None and error:
                    message = wording(
                        "rule %(rule)s output: '%(output)s' is not an expression (%(error)s)",
                        rule=row,
                        output=shown(source),
                        error=error,
                    )
                    found.refuse(decision_id, message, whole=False)
                    text.text = "None"  # so that the table's other cells are checked too


def _give_ids(table: Any, prefix: str) -> None:
    if not table.get("id"):
        table.set("id", prefix)
    counts: dict[str, int] = {}
    for part in table.iter():
        kind = local(part)
        if kind in ("input", "output", "rule", "inputEntry", "outputEntry"):
            counts[kind] = counts.get(kind, 0) + 1
            if not part.get("id"):
                part.set("id", f"{prefix}_{kind}{counts[kind]}")
        if kind in ("inputEntry", "outputEntry"):
            text = next((c for c in part if local(c) == "text"), None)
            if text is not None:
                rewrite = feel.input_entry if kind == "inputEntry" else feel.output_entry
                text.text = rewrite(text.text)


def decision_requirements(roots: Iterable[Any]) -> dict[str, list[str]]:
    """The decisions each decision requires (a decision requirements graph): id -> ids."""
    required: dict[str, list[str]] = {}
    for root in roots:
        for decision in root.iter():
            if local(decision) == "decision" and decision.get("id"):
                required[decision.get("id")] = list(
                    dict.fromkeys(
                        (r.get("href") or "").lstrip("#")
                        for r in decision.iter()
                        if local(r) == "requiredDecision" and r.get("href")
                    )
                )
    return required


def chain_decisions(
    tree: etree._ElementTree, requirements: dict[str, list[str]], found: Findings
) -> None:
    """SpiffWorkflow evaluates the one decision a business rule task calls, not the decisions
    it requires: each required decision (and theirs, first) becomes a business rule task of
    its own just before it, whose outputs are the inputs the decision reads."""
    for task in [t for t in runs(tree) if local(t) == "businessRuleTask"]:
        calls = task.find(f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}calledDecisionId")
        decision = (calls.text or "").strip() if calls is not None else ""
        order: list[str] = []
        problem = _required_first(decision, requirements, [], order)
        if problem:
            found.refuse(label(task), problem)
            continue
        order = [d for d in order if d != decision]
        if order:
            _insert_before(task, order)
            found.warn(
                label(task),
                wording(
                    "the decision '%(decision)s' requires %(required)s: evaluated first, "
                    "each in a step of its own (%(steps)s)",
                    decision=shown(decision),
                    required=_quoted(order),
                    steps=", ".join(_step(task, d) for d in order),
                ),
            )


def _required_first(
    decision: str, requirements: dict[str, list[str]], path: list[str], order: list[str]
) -> Wording | None:
    """Put the decisions `decision` requires into `order`, deepest first; why not, if not."""
    if decision in order or decision not in requirements:
        return None
    if decision in path:
        return wording(
            "the decisions %(decisions)s require each other in a circle", decisions=_quoted(path)
        )
    for required in requirements[decision]:
        if required not in requirements:
            return wording(
                "the decision '%(decision)s' requires the decision '%(required)s', "
                "which is not in this deployment: deploy its DMN file with this one",
                decision=shown(decision),
                required=shown(required),
            )
        problem = _required_first(required, requirements, [*path, decision], order)
        if problem:
            return problem
    order.append(decision)
    return None


def _step(task: Any, decision: str) -> str:
    return re.sub(r"[^\w.-]", "_", f"{task.get('id')}__{decision}")


def _insert_before(task: Any, decisions: list[str]) -> None:
    """New business rule tasks calling `decisions` in turn, between the task's incoming
    flows and the task."""
    process = task.getparent()
    first = _step(task, decisions[0])
    for flow in process.iter(bpmn("sequenceFlow")):
        if flow.get("targetRef") == task.get("id"):
            flow.set("targetRef", first)
    position = list(process).index(task)
    for i, decision in enumerate(decisions):
        step_id = _step(task, decision)
        step = etree.Element(bpmn("businessRuleTask"))
        step.set("id", step_id)
        step.set("name", f"{task.get('name') or task.get('id')} ({decision})")
        holder = etree.SubElement(step, bpmn("extensionElements"))
        etree.SubElement(holder, f"{{{SPIFF_NS}}}calledDecisionId").text = decision
        process.insert(position + i, step)
        after = _step(task, decisions[i + 1]) if i + 1 < len(decisions) else str(task.get("id"))
        flow = etree.SubElement(process, bpmn("sequenceFlow"))
        flow.set("id", f"{step_id}_next")
        flow.set("sourceRef", step_id)
        flow.set("targetRef", after)
        for lane in process.iter(bpmn("lane")):
            refs = [r for r in lane.findall(bpmn("flowNodeRef")) if r.text == task.get("id")]
            if refs:
                etree.SubElement(lane, bpmn("flowNodeRef")).text = step_id


def decision_outputs(roots: Iterable[Any]) -> dict[str, list[str]]:
    """The output names of every decision table: decision id -> names."""
    outputs: dict[str, list[str]] = {}
    for root in roots:
        for decision in root.iter():
            if local(decision) == "decision" and decision.get("id"):
                outputs[decision.get("id")] = [
                    o.get("name") or o.get("label") or ""
                    for o in decision.iter()
                    if local(o) == "output"
                ]
    return outputs


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{shown(n)}'" for n in names)
