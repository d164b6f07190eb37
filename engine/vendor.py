"""Files made with other modelers: Camunda (and Operaton, its fork), Flowable, Activiti, and
SpiffArena's own extensions beyond our contract.

What their extensions mean in our contract (processes/README.md §4) is written into the file's
XML as the `spiffworkflow` properties and scripts SpiffWorkflow and the engine read, before
SpiffWorkflow parses it; JUEL (`${approved}`) becomes Python (engine/juel.py). What has no
meaning here is named in a warning per element and attribute, or refused where running without
it would do something other than the author meant (a service task, a form that is not there).
Silence is the one wrong answer. The table of what maps to what is in docs/interop.md.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lxml import etree

from . import juel
from .model_checks import BPMN_NS, SPIFF_NS, Findings, bpmn, is_bpmn, local, runs, shown, where
from .vendor_forms import form_of
from .wording import Text, Wording, wording

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://operaton.org/schema/1.0/bpmn": "operaton",
    "http://flowable.org/bpmn": "flowable",
    "http://activiti.org/bpmn": "activiti",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://camunda.org/schema/1.0/dmn": "camunda",
    "http://operaton.org/schema/1.0/dmn": "operaton",
    SPIFF_NS: "spiffworkflow",
}
# What modelers write for themselves (layout, colours, palettes, templates, modeler versions):
# their own engines do not read it either.
EDITOR_NAMESPACES = {
    "http://flowable.org/design",
    "http://flowable.org/modeler",
    "http://camunda.org/schema/modeler/1.0",
    "http://bpmn.io/schema/bpmn/biocolor/1.0",
    "http://bpmn.io/schema/dmn/biodi/1.0",
    "http://bpmn.io/schema/dmn/biodi/2.0",
    "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
    "http://www.w3.org/2001/XMLSchema-instance",
    "http://www.w3.org/XML/1998/namespace",
}
EDITOR_ATTRIBUTES = {"modelerTemplate", "modelerTemplateVersion", "modelerTemplateIcon"}
CONTRACT = ("form", "candidates", "due", "queue", "notify", "notify_to", "notify_text")
# spiffworkflow extensions SpiffWorkflow or the engine reads
SPIFF_READ = {
    "calledDecisionId",
    "preScript",
    "postScript",
    "messagePayload",
    "messageVariable",
    "processVariableCorrelation",
    "variableName",
    "payloadExpression",
}
# elements whose pre- and postscripts SpiffWorkflow runs
SCRIPTABLE = {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "subProcess",
    "transaction",
    "callActivity",
    "businessRuleTask",
}
SERVICE_IMPLEMENTATIONS = ("class", "expression", "delegateExpression", "type", "topic")
# what is ignored, and why: every other vendor attribute is "not supported; ignored"
IGNORED = wording("not supported; ignored")
_TRANSACTION = wording("every step is its own transaction already")
_ROLES = wording("who may start a process is set by roles")
_LISTENERS = wording("HazardFlow runs no listeners: put what it does into a script task")
_DECISION = wording("the decision is the one deployed with the process")
_CALLED = wording("the called process is the one deployed with it")
_PRIORITIES = wording("tasks have no priorities")
WHY_IGNORED: dict[str, Wording] = {
    "historyTimeToLive": wording("HazardFlow keeps every case's history"),
    "versionTag": wording("deployments are versioned by their content"),
    "isStartableInTasklist": _ROLES,
    "candidateStarterGroups": _ROLES,
    "candidateStarterUsers": _ROLES,
    "asyncBefore": _TRANSACTION,
    "asyncAfter": _TRANSACTION,
    "exclusive": _TRANSACTION,
    "async": _TRANSACTION,
    "jobPriority": wording("timers and steps have no priorities"),
    "taskPriority": _PRIORITIES,
    "priority": _PRIORITIES,
    "followUpDate": wording("tasks have no follow-up date"),
    "failedJobRetryTimeCycle": wording("a failed step is not retried: it is refused and reported"),
    "autoStoreVariables": wording("a Python script sets case fields by assignment"),
    "executionListener": _LISTENERS,
    "taskListener": _LISTENERS,
    "instructionsForEndUser": wording(
        "not shown to people: put instructions into the form's description"
    ),
    "unitTests": wording("script unit tests are not run"),
    "formUiSchemaFilename": wording("form layouts are not read: use the form's x-ui hints"),
    "decisionRefBinding": _DECISION,
    "decisionRefVersion": _DECISION,
    "decisionRefVersionTag": _DECISION,
    "decisionRefTenantId": _DECISION,
    "calledElementBinding": _CALLED,
    "calledElementVersion": _CALLED,
    "calledElementVersionTag": _CALLED,
    "calledElementTenantId": _CALLED,
}


@dataclass
class Context:
    """What the checks of one file need to know of the whole deployment."""

    form_keys: set[str] = field(default_factory=set)  # forms the deployment has
    decisions: dict[str, list[str]] = field(default_factory=dict)  # decision id -> outputs


@dataclass
class _Element:
    """One element's vendor attributes and extension elements, ticked off as they are read."""

    node: Any
    attributes: dict[tuple[str, str], str]  # (vendor, name) -> value
    extensions: list[tuple[str, Any]]  # (vendor, element)
    read: set[str] = field(default_factory=set)  # names (attribute or element) read

    def value(self, name: str) -> tuple[str, str] | None:
        """(vendor, value) of a vendor attribute of any vendor, ticked off."""
        for (vendor, attribute), value in self.attributes.items():
            if attribute == name:
                self.read.add(name)
                return vendor, value
        return None

    def children(self, name: str) -> list[tuple[str, Any]]:
        found = [(v, e) for v, e in self.extensions if local(e) == name]
        if found:
            self.read.add(name)
        return found


def adapt(tree: etree._ElementTree, context: Context, found: Findings) -> dict[str, Any]:
    """Write what the file's vendor extensions mean into our contract (the tree changes),
    warn or refuse about the rest; returns the forms made from formData, by key."""
    _translate_expressions(tree, found)
    initiators = {
        str(value)
        for start in tree.iter(bpmn("startEvent"))
        for name, value in start.attrib.items()
        if etree.QName(name).localname == "initiator" and etree.QName(name).namespace in VENDORS
    }
    generated: dict[str, Any] = {}
    for node in list(runs(tree)):
        element = _element(node, found)
        if element is None and local(node) not in ("userTask", "serviceTask"):
            continue
        element = element or _Element(node, {}, [])
        kind = local(node)
        if kind == "userTask":
            _assignment(element, initiators, found)
            _due_date(element, found)
        if kind in ("userTask", "startEvent"):
            _form(element, context, generated, found)
        if kind in ("serviceTask", "sendTask", "businessRuleTask", "scriptTask"):
            _service(element, context, found)
        if kind == "businessRuleTask":
            _decision(element, context, found)
        if kind == "multiInstanceLoopCharacteristics":
            _collection(element, found)
        if kind == "callActivity":
            _call_mappings(element, found)
        initiator = element.value("initiator") if kind == "startEvent" else None
        if initiator is not None:
            vendor, variable = initiator
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:initiator: the case field '%(field)s' is not set (HazardFlow "
                    "records who started a case itself); an assignee naming it gets the task to "
                    "them",
                    vendor=vendor,
                    field=shown(variable),
                ),
            )
        _properties(element, context, found)
        _input_output(element, found)
        _ignored(element, found)
    return generated


def _element(node: Any, found: Findings) -> _Element | None:
    """The vendor attributes and extension elements of a BPMN element (None: it has none);
    those of a namespace nobody reads are warned about here."""
    attributes: dict[tuple[str, str], str] = {}
    for name, value in node.attrib.items():
        qname = etree.QName(name)
        if qname.namespace is None or qname.namespace in EDITOR_NAMESPACES:
            continue
        if qname.localname in EDITOR_ATTRIBUTES:
            continue
        vendor = VENDORS.get(qname.namespace)
        if vendor is None:
            found.warn(
                where(node),
                wording(
                    "the attribute %(attribute)s is not read; ignored", attribute=_unknown(qname)
                ),
            )
            continue
        attributes[(vendor, qname.localname)] = value
    extensions: list[tuple[str, Any]] = []
    holder = next((c for c in node if local(c) == "extensionElements"), None)
    for child in holder if holder is not None else []:
        if not isinstance(child.tag, str):
            continue
        namespace = etree.QName(child).namespace
        if namespace in EDITOR_NAMESPACES:
            continue
        vendor = VENDORS.get(namespace or "")
        if vendor is None:
            found.warn(
                where(node),
                wording(
                    "the extension %(extension)s is not read; ignored",
                    extension=_unknown(etree.QName(child)),
                ),
            )
            continue
        if vendor == "spiffworkflow" and local(child) in SPIFF_READ:
            continue
        extensions.append((vendor, child))
    if not attributes and not extensions:
        return None
    return _Element(node, attributes, extensions)


def _unknown(qname: etree.QName) -> Wording:
    return wording(
        "'%(name)s' of %(namespace)s", name=qname.localname, namespace=str(qname.namespace)
    )


# --- expressions ------------------------------------------------------------------------------

_EXPRESSIONS = (
    "conditionExpression",
    "condition",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
)


def _translate_expressions(tree: etree._ElementTree, found: Findings) -> None:
    """JUEL in BPMN's own expression elements (conditions, timers, loops) as Python, in
    every process (the sandbox checks every condition, a diagram's too)."""
    for node in tree.iter():
        if not is_bpmn(node) or local(node) not in _EXPRESSIONS or not juel.is_juel(node.text):
            continue
        try:
            node.text = juel.translate(node.text or "")
        except juel.JuelError as exc:
            found.refuse(
                where(node),
                wording("%(attribute)s: %(refusal)s", attribute=local(node), refusal=exc.said),
            )


def _python(element: _Element, vendor: str, name: str, value: str, found: Findings) -> str | None:
    """A vendor attribute's JUEL as Python; None (refused, naming it) if it cannot be."""
    try:
        return juel.translate(value)
    except juel.JuelError as exc:
        attribute = f"{vendor}:{name}"
        found.refuse(
            where(element.node),
            wording("%(attribute)s: %(refusal)s", attribute=attribute, refusal=exc.said),
        )
        return None


# --- our contract, written into the file -------------------------------------------------------


def spiff_properties(node: Any) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in node.findall(
            f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"
        )
        if p.get("name")
    }


def _holder(node: Any) -> Any:
    holder = node.find(bpmn("extensionElements"))
    if holder is None:
        holder = etree.Element(bpmn("extensionElements"))
        node.insert(0, holder)
    return holder


def set_property(node: Any, name: str, value: str) -> None:
    holder = _holder(node)
    properties = holder.find(f"{{{SPIFF_NS}}}properties")
    if properties is None:
        properties = etree.SubElement(holder, f"{{{SPIFF_NS}}}properties")
    prop = etree.SubElement(properties, f"{{{SPIFF_NS}}}property")
    prop.set("name", name)
    prop.set("value", value)


def _add_script(node: Any, which: str, line: str) -> None:
    """Append a line to the element's spiffworkflow preScript or postScript."""
    holder = _holder(node)
    script = holder.find(f"{{{SPIFF_NS}}}{which}")
    if script is None:
        script = etree.SubElement(holder, f"{{{SPIFF_NS}}}{which}")
        script.text = line
    else:
        script.text = f"{script.text or ''}\n{line}".lstrip("\n")


def _contract(element: _Element, name: str, value: str, source: Text, found: Findings) -> None:
    """Set a property of our contract, unless the file's spiffworkflow property says it."""
    if name in spiff_properties(element.node):
        found.warn(
            where(element.node),
            wording(
                "%(source)s is not read: the spiffworkflow property '%(name)s' says it",
                source=source,
                name=name,
            ),
        )
        return
    set_property(element.node, name, value)


def _split(value: str) -> Iterator[str]:
    """Comma-separated items, the commas inside `${…}` left alone."""
    depth, start = 0, 0
    for i, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            yield value[start:i].strip()
            start = i + 1
    yield value[start:].strip()


def _assignment(element: _Element, initiators: set[str], found: Findings) -> None:
    """candidateGroups, candidateUsers, assignee and BPMN's potentialOwner/humanPerformer as
    the `candidates` of our contract: a group is the role of that name (`role:management`,
    or a group key as it is: `dept:yjj`), a user is `user:<name>`, the starter of the case
    (Flowable's `$INITIATOR`, a variable named by `initiator`) is `reporter()`."""
    items: list[str] = []
    sources: list[str] = []
    reporter = False
    for name, kind in (
        ("candidateGroups", "group"),
        ("candidateUsers", "user"),
        ("assignee", "user"),
    ):
        found_value = element.value(name)
        if found_value is None:
            continue
        vendor, value = found_value
        sources.append(f"{vendor}:{name}")
        for item in _split(value):
            if not item:
                continue
            if item == "$INITIATOR" or juel.is_juel(item) and _variable(item) in initiators:
                reporter = True
            elif juel.is_juel(item):
                python = _python(element, vendor, name, item, found)
                if python is None:
                    return
                prefix = "role:" if kind == "group" else "user:"
                items.append(f"{prefix!r} + str({python})")
            else:
                items.append(repr(_group_key(item, kind)))
    for owner in element.node:
        if not is_bpmn(owner) or local(owner) not in ("potentialOwner", "humanPerformer"):
            continue
        sources.append(local(owner))
        text = " ".join((e.text or "") for e in owner.iter(bpmn("formalExpression"))).strip()
        for item in _split(text):
            match = re.fullmatch(r"(user|group)\((.*)\)", item)
            kind = (
                match.group(1)
                if match
                else ("user" if local(owner) == "humanPerformer" else "group")
            )
            name = (match.group(2) if match else item).strip()
            if not name:
                continue
            if juel.is_juel(name):
                python = _python(element, "bpmn", local(owner), name, found)
                if python is None:
                    return
                items.append(f"{'role:' if kind == 'group' else 'user:'!r} + str({python})")
            else:
                items.append(repr(_group_key(name, kind)))
    if not sources:
        return
    expression = f"[{', '.join(items)}]"
    if reporter:
        expression = "reporter()" if not items else f"{expression} + reporter()"
    _contract(element, "candidates", expression, _and(sources), found)


def _and(names: list[str]) -> Text:
    """`a and b and c`."""
    said: Text = names[0]
    for name in names[1:]:
        said = wording("%(names)s and %(name)s", names=said, name=name)
    return said


def _variable(item: str) -> str | None:
    match = re.fullmatch(r"[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}", item.strip())
    return match.group(1) if match else None


def _group_key(name: str, kind: str) -> str:
    if ":" in name:
        return name  # a group key already (dept:yjj, role:dispatcher)
    return f"{'role' if kind == 'group' else 'user'}:{name}"


def _due_date(element: _Element, found: Findings) -> None:
    found_value = element.value("dueDate")
    if found_value is None:
        return
    vendor, value = found_value
    python = (
        _python(element, vendor, "dueDate", value, found)
        if juel.is_juel(value)
        else repr(value.strip())
    )
    if python is not None:
        _contract(element, "due", python, f"{vendor}:dueDate", found)


def _form(element: _Element, context: Context, generated: dict[str, Any], found: Findings) -> None:
    """The fields of formData / formProperty as a form of the element's id
    (engine/vendor_forms.py); else formKey as the `form` of our contract."""
    node = element.node
    holders = element.children("formData") + element.children("formProperty")
    key_value = element.value("formKey")
    if holders:
        vendor = holders[0][0]
        schema = form_of(node, vendor, found)
        key = node.get("id") or ""
        if key_value is not None:
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:formKey '%(form)s' is not read: the %(fields)s:formData fields "
                    "are the form",
                    vendor=key_value[0],
                    form=shown(key_value[1]),
                    fields=vendor,
                ),
            )
        if schema is None or not key:
            return
        if key in context.form_keys:
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:formData is not read: forms/%(key)s.json is the form",
                    vendor=vendor,
                    key=key,
                ),
            )
            return
        generated[key] = schema
        _contract(element, "form", key, f"{vendor}:formData", found)
        return
    if key_value is None:
        return
    vendor, value = key_value
    if juel.is_juel(value):
        found.refuse(
            where(node),
            wording(
                "%(vendor)s:formKey '%(form)s' is an expression: name the form (a file of forms/)",
                vendor=vendor,
                form=shown(value),
            ),
        )
        return
    key, foreign = _form_name(value)
    _named_form(element, context, key, f"{vendor}:formKey '{shown(value)}'", foreign, found)


def _named_form(
    element: _Element, context: Context, key: str, source: str, foreign: bool, found: Findings
) -> None:
    """A form another modeler's attribute names: ours if the deployment has it, else refused
    naming the file to add."""
    if key in context.form_keys:
        _contract(element, "form", key, source, found)
        return
    if foreign:
        said = wording(
            "%(source)s names an HTML or Camunda Forms form, which HazardFlow does not read: "
            "add forms/%(key)s.json, a JSON Schema form (processes/README.md §6)",
            source=source,
            key=key,
        )
    else:
        said = wording(
            "%(source)s names the form '%(key)s', which is not in this deployment: "
            "add forms/%(key)s.json, a JSON Schema form (processes/README.md §6)",
            source=source,
            key=key,
        )
    found.refuse(where(element.node), said)


def _form_name(value: str) -> tuple[str, bool]:
    """The form key a formKey names, and whether it names a form of another kind (HTML,
    Camunda Forms): `embedded:app:forms/x.html` -> ("x", True), `vacationRequest` -> (same,
    False)."""
    text = value.strip()
    prefix, _, rest = text.rpartition(":")
    path = PurePosixPath(rest or text)
    foreign = bool(prefix) or path.suffix.lower() in (".html", ".htm", ".form")
    stem = path.stem if path.suffix.lower() in (".html", ".htm", ".form", ".json") else path.name
    return stem, foreign


def _decision(element: _Element, context: Context, found: Findings) -> None:
    """decisionRef as the decision a business rule task calls; resultVariable with
    mapDecisionResult as a postscript that stores the result under that name (SpiffWorkflow
    merges a decision's outputs into the case data under their own names)."""
    node = element.node
    found_value = element.value("decisionRef")
    if found_value is not None:
        vendor, value = found_value
        if juel.is_juel(value):
            found.refuse(
                where(node),
                wording(
                    "%(vendor)s:decisionRef '%(decision)s' is an expression: name the decision",
                    vendor=vendor,
                    decision=shown(value),
                ),
            )
            return
        calls = node.find(f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}calledDecisionId")
        if calls is not None:
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:decisionRef is not read: "
                    "spiffworkflow:calledDecisionId names the decision",
                    vendor=vendor,
                ),
            )
        else:
            etree.SubElement(_holder(node), f"{{{SPIFF_NS}}}calledDecisionId").text = value
        if value not in context.decisions:
            found.refuse(
                where(node),
                wording(
                    "calls decision '%(decision)s' (%(vendor)s:decisionRef), "
                    "which is not in this deployment: deploy its DMN file with this one",
                    decision=shown(value),
                    vendor=vendor,
                ),
            )
            return
    result = element.value("resultVariable")
    mapping = element.value("mapDecisionResult")
    if result is None:
        if mapping is not None:
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:mapDecisionResult is not read: the "
                    "decision's outputs are case fields under their own names",
                    vendor=mapping[0],
                ),
            )
        return
    vendor, variable = result
    how = mapping[1] if mapping else "resultList"
    decision = _called_decision(node)
    outputs = context.decisions.get(decision or "")
    if outputs is None:
        return  # the missing decision is reported by SpiffWorkflow
    if not variable.isidentifier() or variable.startswith("_") or keyword.iskeyword(variable):
        found.refuse(
            where(node),
            wording(
                "%(vendor)s:resultVariable '%(variable)s' is not a name a case field can have",
                vendor=vendor,
                variable=shown(variable),
            ),
        )
        return
    row = "{" + ", ".join(f"{o!r}: {o}" for o in outputs) + "}"
    if how == "singleEntry" and len(outputs) == 1:
        if outputs[0] != variable:
            _add_script(node, "postScript", f"{variable} = {outputs[0]}")
    elif how == "singleResult":
        _add_script(node, "postScript", f"{variable} = {row}")
    elif how == "resultList":
        _add_script(node, "postScript", f"{variable} = [{row}]")
    else:
        found.refuse(
            where(node),
            wording(
                "%(vendor)s:mapDecisionResult '%(mapping)s' is not supported: the decision's "
                "outputs (%(outputs)s) are case fields under their own names; use "
                "singleEntry, singleResult or resultList, or none",
                vendor=vendor,
                mapping=shown(how),
                outputs=", ".join(outputs),
            ),
        )


def _called_decision(node: Any) -> str | None:
    calls = node.find(f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}calledDecisionId")
    return (calls.text or "").strip() if calls is not None else None


def _service(element: _Element, context: Context, found: Findings) -> None:
    """A task whose work is Java code, a connector or an external worker is refused with what
    it would call; Flowable's DMN task becomes the business rule task it is."""
    node = element.node
    kind = local(node)
    implementation = {
        name: value
        for (vendor, name), value in element.attributes.items()
        if name in SERVICE_IMPLEMENTATIONS and (kind != "scriptTask" or name != "type")
    }
    vendor = next((v for (v, n) in element.attributes if n in implementation), "")
    operator = node.find(f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}serviceTaskOperator")
    connector = element.children("connector")
    worker = element.children("taskDefinition")  # Camunda 8 (Zeebe): a job worker's type
    if implementation.get("type") == "dmn":
        _dmn_task(element, vendor, context, found)
        return
    if kind == "businessRuleTask" and not implementation:
        return
    if kind == "scriptTask":
        resource = element.value("resource")
        if resource is not None:
            found.refuse(
                where(node),
                wording(
                    "%(vendor)s:resource: the script is in the file "
                    "'%(file)s', which is not deployed; write it into the task",
                    vendor=resource[0],
                    file=shown(resource[1]),
                ),
            )
        result = element.value("resultVariable")
        if result is not None:
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:resultVariable is not read: a Python script "
                    "sets case fields by assignment",
                    vendor=result[0],
                ),
            )
        return
    if kind == "sendTask" and not implementation and not connector and not worker:
        return  # a message it throws: BPMN's own meaning
    for name in SERVICE_IMPLEMENTATIONS:
        element.value(name)
    element.children("field")
    element.value("resultVariable")
    what: Wording
    if operator is not None:
        what = wording(
            "calls the connector '%(connector)s' (spiffworkflow:serviceTaskOperator)",
            connector=shown(operator.get("id")),
        )
    elif worker:
        what = wording(
            "waits for a job worker of the type '%(type)s' (zeebe:taskDefinition)",
            type=shown(worker[0][1].get("type")),
        )
    elif connector:
        ids = [c.findtext(f"{{{CAMUNDA_NS}}}connectorId") for _v, c in connector]
        what = wording(
            "calls the connector '%(connector)s' (%(vendor)s:connector)",
            connector=shown(ids[0] if ids else ""),
            vendor=connector[0][0],
        )
    elif "class" in implementation:
        what = wording(
            "calls the Java class %(java_class)s (%(vendor)s:class)",
            java_class=shown(implementation["class"]),
            vendor=vendor,
        )
    elif "delegateExpression" in implementation:
        what = wording(
            "calls the Java bean %(bean)s (%(vendor)s:delegateExpression)",
            bean=shown(implementation["delegateExpression"]),
            vendor=vendor,
        )
    elif "expression" in implementation:
        what = wording(
            "evaluates %(expression)s on Java objects (%(vendor)s:expression)",
            expression=shown(implementation["expression"]),
            vendor=vendor,
        )
    elif implementation.get("type") == "external":
        what = wording(
            "waits for an external worker on the topic '%(topic)s' (%(vendor)s:type=\"external\")",
            topic=shown(implementation.get("topic")),
            vendor=vendor,
        )
    elif "type" in implementation:
        what = wording(
            "is a %(vendor)s '%(type)s' task (%(vendor)s:type)",
            vendor=vendor,
            type=shown(implementation["type"]),
        )
    elif (node.get("implementation") or "##unspecified").strip() not in (
        "##unspecified",
        "##WebService",
    ):
        what = wording(
            "calls the connector '%(connector)s' (implementation, as Activiti names its "
            "connectors)",
            connector=shown(node.get("implementation")),
        )
    else:
        what = wording("has no implementation: it would do nothing")
    found.refuse(
        where(node),
        wording(
            "the %(task)s %(what)s. HazardFlow runs no Java code, connectors or external "
            "workers: make it a script task (Python, in the sandbox) if it computes something, "
            "or a user task if a person does it",
            task=kind,
            what=what,
        ),
    )
    if kind == "serviceTask" and operator is None:
        node.tag = bpmn("task")  # so that SpiffWorkflow's "must have an operator" is not said too


def _dmn_task(element: _Element, vendor: str, context: Context, found: Findings) -> None:
    """Flowable's `flowable:type="dmn"` service task with the decision in its field
    `decisionTableReferenceKey`: a business rule task calling that decision."""
    node = element.node
    fields = {
        f.get("name"): (f.findtext(f"{{{_namespace(f)}}}string") or f.get("stringValue") or "")
        for _v, f in element.children("field")
    }
    decision = (fields.pop("decisionTableReferenceKey", "") or "").strip()
    element.value("type")
    for name in fields:
        found.warn(
            where(node),
            wording(
                "%(vendor)s:field '%(field)s' is not read; ignored",
                vendor=vendor,
                field=shown(name),
            ),
        )
    if not decision:
        found.refuse(
            where(node),
            wording(
                "the %(vendor)s decision task names no decision (field decisionTableReferenceKey)",
                vendor=vendor,
            ),
        )
        return
    node.tag = bpmn("businessRuleTask")
    for name in list(node.attrib):
        if etree.QName(name).localname == "type" and etree.QName(name).namespace in VENDORS:
            del node.attrib[name]
    etree.SubElement(_holder(node), f"{{{SPIFF_NS}}}calledDecisionId").text = decision
    if decision not in context.decisions:
        found.refuse(
            where(node),
            wording(
                "calls decision '%(decision)s', which is not in this "
                "deployment: deploy its DMN file with this one",
                decision=shown(decision),
            ),
        )


def _namespace(node: Any) -> str:
    return etree.QName(node).namespace or ""


def _collection(element: _Element, found: Findings) -> None:
    """A multi-instance's collection and element variable as BPMN's own loopDataInputRef
    and inputDataItem, which SpiffWorkflow reads."""
    node = element.node
    collection = element.value("collection")
    item = element.value("elementVariable")
    if collection is None:
        if item is not None:
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:elementVariable is not read without a collection", vendor=item[0]
                ),
            )
        return
    vendor, value = collection
    name = _variable(value) if juel.is_juel(value) else value.strip()
    owner = where(node)
    if not name or not name.isidentifier() or name.startswith("_"):
        found.refuse(
            owner,
            wording(
                "%(vendor)s:collection '%(collection)s' must name a case field that holds a list",
                vendor=vendor,
                collection=shown(value),
            ),
        )
        return
    if (
        node.find(bpmn("loopCardinality")) is not None
        or node.find(bpmn("loopDataInputRef")) is not None
    ):
        found.warn(
            owner,
            wording(
                "%(vendor)s:collection is not read: the loop says its own input", vendor=vendor
            ),
        )
        return
    etree.SubElement(node, bpmn("loopDataInputRef")).text = name
    if item is not None:
        data_item = etree.SubElement(node, bpmn("inputDataItem"))
        data_item.set("id", item[1])
        data_item.set("name", item[1])


def _call_mappings(element: _Element, found: Findings) -> None:
    """camunda:in / camunda:out of a call activity. SpiffWorkflow hands the called process all
    the case data and takes all of it back, so a variable passed under its own name (or
    `variables="all"`) is what happens anyway; one renamed becomes an assignment before
    (in) or after (out) the call."""
    node = element.node
    for direction, which in (("in", "preScript"), ("out", "postScript")):
        for vendor, mapping in element.children(direction):
            target = mapping.get("target")
            source = mapping.get("source")
            expression = mapping.get("sourceExpression")
            if mapping.get("variables") == "all" and not target:
                continue
            if mapping.get("businessKey") is not None:
                found.warn(
                    where(node),
                    wording(
                        "%(vendor)s:%(direction)s businessKey is not read: a case is known by "
                        "its number",
                        vendor=vendor,
                        direction=direction,
                    ),
                )
                continue
            if not target or not target.isidentifier() or target.startswith("_"):
                found.refuse(
                    where(node),
                    wording(
                        "%(vendor)s:%(direction)s target '%(target)s' is "
                        "not a name a case field can have",
                        vendor=vendor,
                        direction=direction,
                        target=shown(target),
                    ),
                )
                continue
            if expression:
                python = _python(element, vendor, direction, expression, found)
                if python is not None:
                    _add_script(node, which, f"{target} = {python}")
            elif source and source != target:
                if not source.isidentifier() or source.startswith("_"):
                    found.refuse(
                        where(node),
                        wording(
                            "%(vendor)s:%(direction)s source '%(source)s' is not a case "
                            "field's name",
                            vendor=vendor,
                            direction=direction,
                            source=shown(source),
                        ),
                    )
                    continue
                _add_script(node, which, f"{target} = {source}")
            if mapping.get("local") == "true":
                found.warn(
                    where(node),
                    wording(
                        "%(vendor)s:%(direction)s local is not read: HazardFlow "
                        "has no variables local to a task",
                        vendor=vendor,
                        direction=direction,
                    ),
                )


def _properties(element: _Element, context: Context, found: Findings) -> None:
    """camunda:properties with a name of our contract become its properties; SpiffArena's
    formJsonSchemaFilename names the form; any other property name is warned about."""
    node = element.node
    for vendor, holder in element.children("properties"):
        for prop in holder:
            if local(prop) != "property":
                continue
            name, value = prop.get("name") or "", prop.get("value") or ""
            if vendor == "spiffworkflow":
                if name in CONTRACT:
                    continue  # ours
                if name == "formJsonSchemaFilename":
                    source = f"spiffworkflow:property formJsonSchemaFilename '{shown(value)}'"
                    key = PurePosixPath(value).stem
                    _named_form(element, context, key, source, False, found)
                else:
                    why = WHY_IGNORED.get(name, IGNORED)
                    found.warn(
                        where(node),
                        wording(
                            "spiffworkflow:property '%(name)s': %(why)s", name=shown(name), why=why
                        ),
                    )
                continue
            if name == "form":
                _named_form(element, context, value, f"{vendor}:property 'form'", False, found)
            elif name in CONTRACT:
                _contract(element, name, value, f"{vendor}:property '{name}'", found)
            else:
                found.warn(
                    where(node),
                    wording(
                        "%(vendor)s:property '%(name)s' is not read (HazardFlow reads the "
                        "properties %(properties)s)",
                        vendor=vendor,
                        name=shown(name),
                        properties=", ".join(CONTRACT),
                    ),
                )


def _input_output(element: _Element, found: Findings) -> None:
    """camunda:inputOutput: each input parameter an assignment before the element runs, each
    output parameter one after it. HazardFlow has no variables local to a task, so an input
    parameter becomes a case field (a warning says so)."""
    node = element.node
    for vendor, holder in element.children("inputOutput"):
        if local(node) not in SCRIPTABLE:
            found.refuse(
                where(node),
                wording(
                    "%(vendor)s:inputOutput is not supported on a "
                    "%(element)s: set the fields in a script task beside it",
                    vendor=vendor,
                    element=local(node),
                ),
            )
            continue
        inputs = False
        for parameter in holder:
            kind = local(parameter)
            if kind not in ("inputParameter", "outputParameter"):
                continue
            name = parameter.get("name") or ""
            if not name.isidentifier() or name.startswith("_") or keyword.iskeyword(name):
                found.refuse(
                    where(node),
                    wording(
                        "%(vendor)s:%(parameter)s '%(name)s' is not a name a case field can have",
                        vendor=vendor,
                        parameter=kind,
                        name=shown(name),
                    ),
                )
                continue
            nested = [local(c) for c in parameter if isinstance(c.tag, str)]
            if nested:
                found.refuse(
                    where(node),
                    wording(
                        "%(vendor)s:%(parameter)s '%(name)s' is a %(vendor)s:%(nested)s, "
                        "which is not supported: compute it in a script task",
                        vendor=vendor,
                        parameter=kind,
                        name=name,
                        nested=nested[0],
                    ),
                )
                continue
            text = parameter.text or ""
            if juel.is_juel(text):
                python = _python(element, vendor, kind, text, found)
                if python is None:
                    continue
            else:
                python = repr(text.strip()) if text.strip() else "None"
            inputs = inputs or kind == "inputParameter"
            which = "preScript" if kind == "inputParameter" else "postScript"
            _add_script(node, which, f"{name} = {python}")
        if inputs:
            found.warn(
                where(node),
                wording(
                    "%(vendor)s:inputOutput: its input parameters become case "
                    "fields (HazardFlow has no variables local to a task)",
                    vendor=vendor,
                ),
            )


def _ignored(element: _Element, found: Findings) -> None:
    """Every vendor attribute and extension element not read above, named in a warning."""
    node = element.node
    for (vendor, name), _value in element.attributes.items():
        if name not in element.read:
            why = WHY_IGNORED.get(name, IGNORED)
            found.warn(
                where(node),
                wording("%(vendor)s:%(name)s: %(why)s", vendor=vendor, name=name, why=why),
            )
    for vendor, child in element.extensions:
        name = local(child)
        if name in element.read:
            continue
        if vendor == "spiffworkflow" and name == "serviceTaskOperator":
            continue  # refused with its task (_service)
        why = WHY_IGNORED.get(name, IGNORED)
        found.warn(
            where(node),
            wording(
                "%(vendor)s:%(name)s%(code)s: %(why)s",
                vendor=vendor,
                name=name,
                code=_what_it_does(child),
                why=why,
            ),
        )


def _what_it_does(child: Any) -> str:
    """A listener's event and code, as a warning quotes it: ` (end: ${…})`."""
    code = next(
        (child.get(a) for a in ("class", "expression", "delegateExpression") if child.get(a)),
        None,
    )
    if code is None:
        return ""
    event = child.get("event")
    return f" ({event}: {shown(code)})" if event else f" ({shown(code)})"


def dmn_warnings(root: Any, found: Findings) -> None:
    """Vendor attributes of decision files: none is read (camunda:inputVariable: input
    entries name the input '?')."""
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace in EDITOR_NAMESPACES:
            continue
        for name, value in node.attrib.items():
            qname = etree.QName(name)
            vendor = VENDORS.get(qname.namespace or "")
            if vendor is None or (qname.localname == "inputVariable" and not value):
                continue
            why = WHY_IGNORED.get(qname.localname, IGNORED)
            if qname.localname == "inputVariable":
                why = wording("an input entry names the input '?'")
            element = node.get("id") or node.get("label") or local(node)
            found.warn(
                element,
                wording(
                    "%(vendor)s:%(name)s: %(why)s", vendor=vendor, name=qname.localname, why=why
                ),
            )


__all__ = ["BPMN_NS", "Context", "adapt", "dmn_warnings", "set_property", "spiff_properties"]
