"""Process files: read, validate, compile with SpiffWorkflow's parser, cache per version.

A deployment is an immutable set of BPMN, DMN and form files. Everything a running instance
needs from its files is compiled once per deployment and kept in
`deployments.CompiledProcesses`; the workflow state never carries the spec.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ScriptTaskParser, SubWorkflowParser
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask, SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from . import sandbox
from .calendar import CALENDAR_FILE, parse_calendar
from .dmn_checks import form_codes, table_warnings
from .errors import DeployRefused, Problem
from .form_options import OrganisationOptions, fill, uses_options
from .form_refs import inline_refs, is_shared, registry_of
from .notify import NotifyInfo
from .prepass import prepare
from .spiff_timers import ClockCycle, ClockDuration, ClockTimeDate, ClockTimerParserMixin
from .texts import (
    TRANSLATIONS_DIR,
    collect_texts,
    lane_title,
    locale_of,
    parse_translations,
    translation_warnings,
)
from .wording import Text, Wording, wording

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}

# No DTDs, no entities, no network: uploaded XML is parsed by this parser only.
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


@dataclass(frozen=True)
class SourceFile:
    name: str  # relative name, e.g. "hazard.bpmn" or "forms/report.json"
    kind: str  # bpmn | dmn | form (forms/_*.json too) | calendar | translations
    content: str


@dataclass(frozen=True)
class HumanTaskInfo:
    """What the engine needs to know about a user task, read once from its spec."""

    lane: str | None
    title: str
    form_key: str | None
    candidates: str | None  # expression returning group keys
    due: str | None  # expression returning an ISO datetime
    queue: str | None = None  # expression naming the queue tab; default: the title


@dataclass
class CompiledProcess:
    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, dict[str, Any]]  # key -> schema, with its $refs inlined
    start_form: str | None
    human_tasks: dict[str, HumanTaskInfo] = field(default_factory=dict)
    notify: dict[str, NotifyInfo] = field(default_factory=dict)
    bpmn_file: str | None = None  # the deployment file the process comes from
    # From the start form: the fields a list shows a case by (x-summary), the fields the
    # public form asks for (x-public; none: the process has no public form) and the fields
    # its cases are found by in a search, besides their number (x-search; when the form
    # does not say, its x-summary).
    summary_fields: tuple[str, ...] = ()
    public_fields: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ()
    # What the public status page of a case shows (x-public-status): (field, title for the
    # public or None for the form's own title), each once it has a value.
    public_status: tuple[tuple[str, str | None], ...] = ()
    # Where forms take choices from the organisation (engine/form_options.py); set when the
    # process is cached for running, not when files are only validated.
    options: OrganisationOptions | None = None
    _filled: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict, repr=False)
    _takes_options: dict[str, bool] = field(default_factory=dict, repr=False)

    def form(self, key: str | None) -> dict[str, Any] | None:
        """The form's schema as people fill it in now: with the organisation's choices."""
        schema = self.forms.get(key) if key else None
        if schema is None or key is None or self.options is None:
            return schema
        takes = self._takes_options.get(key)
        if takes is None:
            takes = self._takes_options[key] = uses_options(schema)
        if not takes:
            return schema
        version, options = self.options.current()
        cached = self._filled.get(key)
        if cached is None or cached[0] != version:
            cached = self._filled[key] = (version, fill(schema, options))
        return cached[1]

    def case_properties(self) -> dict[str, Any]:
        """Every field the process's forms define (start form first, then the task forms in
        process order; the first definition of a name wins): the case's data dictionary."""
        properties: dict[str, Any] = {}
        keys = [self.start_form] + [t.form_key for t in self.human_tasks.values()]
        for key in dict.fromkeys(k for k in keys if k):
            for name, prop in ((self.form(key) or {}).get("properties") or {}).items():
                properties.setdefault(name, prop)
        return properties

    def case_sections(self) -> list[tuple[str, dict[str, Any]]]:
        """The case's fields by the step that fills them in, in process order: (the step's
        title, its fields). A field belongs to the first form that lets a person write it;
        one no form writes (set by a script: the deadline, the proposed department) to the
        first form that shows it."""
        steps = [((self.form(self.start_form) or {}).get("title") or self.name, self.start_form)]
        steps += [(t.title, t.form_key) for t in self.human_tasks.values()]
        titles: dict[str, str] = {}  # form key -> the title of the first step using it
        for title, key in steps:
            if key and key not in titles:
                titles[key] = title
        sections: dict[str, dict[str, Any]] = {key: {} for key in titles}
        placed: set[str] = set()
        for writable in (True, False):
            for key, fields in sections.items():
                for name, prop in ((self.form(key) or {}).get("properties") or {}).items():
                    if name not in placed and (not prop.get("readOnly")) == writable:
                        fields[name] = {k: v for k, v in prop.items() if k != "readOnly"}
                        placed.add(name)
        return [(titles[key], fields) for key, fields in sections.items() if fields]


def _with_clock(parser_class: type) -> type:
    if issubclass(parser_class, EventDefinitionParser):
        return type(parser_class.__name__, (ClockTimerParserMixin, parser_class), {})
    return parser_class


class TerminatingEndEvent(EndEvent):
    """An end event whose terminate hands its own branch's data to the parent process.

    SpiffWorkflow 3.2 completes an embedded subprocess from inside the terminate end's
    completion hook, before it records the end as the subworkflow's last task: the parent
    then continues with the data of whatever task completed just before it, which may be a
    parallel branch (a reminder that fired in the same step) instead of the branch that ended
    the subprocess."""

    def _on_complete_hook(self, my_task: Any) -> None:
        if isinstance(self.event_definition, TerminateEventDefinition):
            my_task.workflow.last_task = my_task
        super()._on_complete_hook(my_task)


class OnceCompletedSubprocess(SubWorkflowTask):
    """An embedded subprocess that continues its parent once, with the data of the end it
    reached. SpiffWorkflow runs the READY tasks of a step from a list made beforehand: a
    reminder that became due in the same step still runs after a terminate end cancelled it,
    and its completion would announce the finished subprocess again, with the reminder's
    data, putting the parent back to READY."""

    def _on_subworkflow_completed(self, subworkflow: Any, my_task: Any) -> None:
        if my_task.state == TaskState.STARTED:
            super()._on_subworkflow_completed(subworkflow, my_task)


class PrincipalMultiInstance(ParallelMultiInstanceTask):
    """A parallel multi-instance whose first instance is its principal one: besides each
    instance's output item (written into the output collection, as SpiffWorkflow does), the
    first instance's data is handed back to the process, as a task without a loop would.

    SpiffWorkflow hands back only the output items (or, without an output, every instance's
    data merged one over the other, the last to finish winning). A joint case (lead and
    cooperating departments, processes/README.md) needs its lead's fields (the report, a
    moved deadline, the counters) to go on as the case's, and the others' not to overwrite
    them; `workflow.case_data` reads the open case the same way."""

    def listen(self, spec: Any) -> None:
        """Hear each instance complete from the start. SpiffWorkflow connects this when it
        creates an instance, on the compiled spec: a server process that compiled the spec
        after the instances were created (a restart, another worker) would never hear them,
        and the multi-instance would wait for ever."""
        child = spec.task_specs.get(self.task_spec)
        if child is not None and not child.completed_event.is_connected(self.merge_child):
            child.completed_event.connect(self.merge_child)

    def merge_child(self, workflow: Any, child: Any) -> None:
        if child.internal_data.get("key_or_index") == 0:
            items = {d.bpmn_id for d in (self.input_item, self.output_item) if d is not None}
            own = {k: v for k, v in child.data.items() if k not in items}
            collections = {d.bpmn_id for d in (self.data_input, self.data_output) if d}
            for name in collections:  # the collections are SpiffWorkflow's to update
                own.pop(name, None)
            child.parent.data.update(deepcopy(own))
        super().merge_child(workflow, child)


class EngineSubWorkflowParser(SubWorkflowParser):
    PARALLEL_MI_CLASS = PrincipalMultiInstance


class EngineScriptTaskParser(ScriptTaskParser):
    """A script task's preScript and postScript too. SpiffWorkflow's parser reads only the
    script, although the task runs them as every other task does: a Camunda inputOutput on a
    script task (engine/vendor.py) was dropped without a word, and a preScript never checked."""

    def create_task(self) -> Any:
        task = super().create_task()
        extensions = self.parse_extensions()
        task.prescript = extensions.get("preScript")
        task.postscript = extensions.get("postScript")
        return task


_END_EVENT = full_tag("endEvent")
_SUBPROCESS = full_tag("subProcess")
_SPECS = {_END_EVENT: TerminatingEndEvent, _SUBPROCESS: OnceCompletedSubprocess}
_PARSERS = {_SUBPROCESS: EngineSubWorkflowParser, full_tag("scriptTask"): EngineScriptTaskParser}


class EngineParser(SpiffBpmnParser):
    """SpiffWorkflow's parser, with timer events that read the engine clock and terminate end
    events that pass on their own data."""

    OVERRIDE_PARSER_CLASSES = {
        tag: (_PARSERS.get(tag, _with_clock(parser)), _SPECS.get(tag, spec))
        for tag, (parser, spec) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
    }


# --- reading files ---------------------------------------------------------------------------


def read_sources(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Collect *.bpmn, *.dmn, forms/*.json (forms/_*.json: shared definitions), calendar.yaml
    and translations/*.yaml from files and folders."""
    found: dict[str, SourceFile] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = [(p, p.relative_to(path)) for p in sorted(path.rglob("*")) if p.is_file()]
        else:  # a single file keeps its forms/ or translations/ folder in its name
            in_folder = path.parent.name in ("forms", TRANSLATIONS_DIR)
            rel = Path(path.parent.name, path.name) if in_folder else path
            candidates = [(path, Path(*rel.parts[-2:]) if rel is not path else Path(path.name))]
        for file, rel in candidates:
            kind = kind_of(rel)
            if kind:
                name = rel.as_posix()
                found[name] = SourceFile(name, kind, file.read_text(encoding="utf-8"))
    return list(found.values())


def kind_of(rel: Path) -> str | None:
    """What kind of process file a name is in a deployment; None: not one."""
    if rel.suffix == ".bpmn" or rel.name.endswith(".bpmn20.xml"):
        return "bpmn"
    if rel.suffix == ".dmn":
        return "dmn"
    if rel.suffix == ".json" and rel.parent.name == "forms":
        return "form"
    if rel.name == CALENDAR_FILE:
        return "calendar"
    if locale_of(rel.as_posix()):
        return "translations"
    return None


def content_hash(sources: Iterable[SourceFile]) -> str:
    digest = hashlib.sha256()
    for src in sorted(sources, key=lambda s: s.name):
        digest.update(src.name.encode() + b"\0" + src.content.encode() + b"\0")
    return digest.hexdigest()


def parse_xml(src: SourceFile) -> etree._ElementTree:
    """Parse uploaded XML safely; a DOCTYPE is refused outright (no XXE, no entity bombs)."""
    try:
        tree = etree.ElementTree(etree.fromstring(src.content.encode("utf-8"), _XML_PARSER))
    except etree.XMLSyntaxError as exc:
        said = wording("malformed XML: %(error)s", error=str(exc))
        raise DeployRefused([Problem(src.name, None, said)]) from None
    if tree.docinfo.doctype:  # type: ignore[attr-defined]  # lxml-stubs lacks it
        said = wording("a DOCTYPE is not allowed in process files")
        raise DeployRefused([Problem(src.name, None, said)])
    return tree


def readable_diagram(xml: str, table: dict[str, str]) -> str:
    """The BPMN as a reader sees it: each lane named by its documentation (a lane's `name` is
    the role key that works its tasks, e.g. `dispatcher`; its documentation is what people
    call that role, e.g. 牵头部门调度员), then every name in another language where `table`
    (text -> translation) has one."""
    if not xml:
        return xml
    tree = parse_xml(SourceFile("diagram.bpmn", "bpmn", xml))  # the hardened parser
    for lane in tree.iter(f"{{{BPMN_NS}}}lane"):
        title = lane_title(lane)
        if title:
            lane.set("name", title)
    for element in tree.iter():
        name = element.get("name") if isinstance(element.tag, str) else None
        if name is not None and name in table:
            element.set("name", table[name])
    return etree.tostring(tree, encoding="unicode")


# --- validation and compilation --------------------------------------------------------------


def compile_sources(
    sources: list[SourceFile], warnings: list[Problem] | None = None, stored: bool = False
) -> dict[str, CompiledProcess]:
    """Validate every file and compile every executable process, or raise DeployRefused.

    Findings that do not stop a deployment (e.g. overlapping decision rules) go to `warnings`.
    `stored`: the files of a deployment stored before; what checks added since then find is
    a warning (engine/prepass.py), so that its cases run on.
    """
    problems: list[Problem] = []
    forms, form_files = _load_forms(sources, problems)
    translations: dict[str, dict[str, str]] = {}
    for src in sources:
        try:
            if src.kind == "calendar":
                parse_calendar(src.content)
            elif src.kind == "translations":
                translations[src.name] = parse_translations(src.content)
        except ValueError as exc:
            problems.append(Problem(src.name, None, _said_by(exc)))
    parser = EngineParser()
    trees = []
    for src in sources:
        if src.kind not in ("bpmn", "dmn"):
            continue
        try:
            trees.append((src.name, src.kind, parse_xml(src)))
        except DeployRefused as refused:
            problems.extend(refused.problems)
    prepared = prepare(trees, set(forms), stored)
    for key, schema in prepared.forms.items():
        forms.setdefault(key, schema)
    problems.extend(prepared.problems)
    if warnings is not None:
        warnings.extend(prepared.warnings)
    later: list[Problem] = []  # what the checks below and SpiffWorkflow's parser say
    bpmn_trees = prepared.bpmn
    for name, tree in bpmn_trees:
        later.extend(_check_references(name, tree))
        later.extend(_check_conditions(name, tree))
        _parsed(parser.add_bpmn_xml, tree, name, later)
    for name, roots in prepared.dmn:
        for root in roots:
            _parsed(parser.add_dmn_xml, root, name, later)
    later.extend(_check_decisions(parser))
    problems.extend(p for p in later if not prepared.answers(p))
    if problems:
        raise DeployRefused(problems)
    if warnings is not None:
        warnings.extend(_decision_warnings(parser, form_codes(forms)))

    problems.extend(_recursive_calls(parser))
    compiled: dict[str, CompiledProcess] = {}
    for process_id in parser.get_process_ids():
        if parser.process_parsers[process_id].node.tag != full_tag("process"):
            continue  # an embedded subProcess, listed by SpiffWorkflow as if it were startable
        filename = parser.process_parsers[process_id].filename or "?"
        try:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except ValidationException as exc:
            problems.append(_problem_from(exc, filename))
            continue
        except RecursionError:
            said = wording("process too deep for SpiffWorkflow")
            problems.append(Problem(filename, process_id, said))
            continue
        except Exception as exc:
            problems.append(Problem(filename, process_id, f"{type(exc).__name__}: {exc}"))
            continue
        process = CompiledProcess(
            process_id=process_id,
            name=spec.description or process_id,
            spec=spec,
            subprocess_specs=subprocess_specs,
            forms=forms,
            start_form=None,
            bpmn_file=filename,
        )
        _inspect_specs(process, filename, problems)
        _in_document_order(process, dict(bpmn_trees).get(filename))
        problems.extend(_check_summary(process, form_files))
        compiled[process_id] = process
    if warnings is not None and translations:
        queues = [t.queue for p in compiled.values() for t in p.human_tasks.values() if t.queue]
        texts = collect_texts(form_files, bpmn_trees, queues)
        warnings.extend(translation_warnings(translations, texts))
    if (
        not compiled
        and not problems
        and not any(s.kind in ("calendar", "translations") for s in sources)
    ):
        problems.extend(_nothing_to_run(sources, bpmn_trees))
    if [p for p in problems if p.severity == "error"]:
        raise DeployRefused([p for p in problems if p.severity == "error"])
    return compiled


def _nothing_to_run(
    sources: list[SourceFile], bpmn_trees: list[tuple[str, etree._ElementTree]]
) -> list[Problem]:
    """Why files deploy no process: each process is a diagram (isExecutable="false"), or
    there is no BPMN file (decision tables and forms are used by the processes deployed with
    them)."""
    found = [
        Problem(
            name,
            process.get("id"),
            wording(
                'isExecutable="false": the process is a diagram, not one to run; set '
                'isExecutable="true" to run it'
            ),
        )
        for name, tree in bpmn_trees
        for process in tree.iter(full_tag("process"))
        if process.get("isExecutable", "true").lower() == "false"
    ]
    if found:
        return found
    names = ", ".join(s.name for s in sources if s.kind == "bpmn")
    if names:
        said = wording("no process found: the file holds no bpmn:process")
        return [Problem(names, None, said)]
    return [
        Problem(
            "no BPMN file",
            None,
            wording(
                "no executable process found: a deployment needs the BPMN process that uses "
                "its decision tables and forms (they have no problems of their own)"
            ),
        )
    ]


def _parsed(
    add: Callable[..., None], document: Any, filename: str, problems: list[Problem]
) -> None:
    """Hand a file to SpiffWorkflow's parser; what it raises is a refusal of the file."""
    try:
        add(document, filename=filename)
    except ValidationException as exc:
        problems.append(_problem_from(exc, filename))
    except Exception as exc:  # the parser raises many kinds; all are refusals
        problems.append(Problem(filename, None, f"{type(exc).__name__}: {exc}"))


def _recursive_calls(parser: EngineParser) -> list[Problem]:
    """A process that calls itself, directly or through others, is refused.

    SpiffWorkflow starts a new subprocess for every call, without limit, and each one makes
    the next step slower: one case would hold a worker for hours.
    """
    calls: dict[str, list[tuple[str, str]]] = {}
    for process_id, process_parser in parser.process_parsers.items():
        if process_parser.node.tag == full_tag("process"):
            calls[process_id] = [
                (el.get("id"), el.get("calledElement"))
                for el in process_parser.node.iter(full_tag("callActivity"))
                if el.get("calledElement")
            ]
    problems = []
    for process_id, activities in calls.items():
        for element, called in activities:
            seen: set[str] = set()
            todo = [called]
            while todo and process_id not in seen:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo.extend(target for _el, target in calls.get(current, []))
            if process_id in seen:
                said = (
                    wording(
                        "process '%(process)s' calls itself: recursive call activities never "
                        "end; use a loop instead",
                        process=process_id,
                    )
                    if called == process_id
                    else wording(
                        "process '%(process)s' calls '%(called)s', which calls it back: "
                        "recursive call activities never end; use a loop instead",
                        process=process_id,
                        called=called,
                    )
                )
                problems.append(
                    Problem(parser.process_parsers[process_id].filename or "?", element, said)
                )
    return problems


# SpiffWorkflow replaces each '?' of an input entry (outside quotes) by the input with a
# regular expression that takes quadratic time in the entry's length, before any sandbox runs.
MAX_DMN_ENTRY = 1_000
_DMN_QUESTION = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")


def _input_entry_code(input_expression: str, entry: str) -> str:
    """The expression SpiffWorkflow's DMNEngine.evaluate builds from an input entry."""
    replaced = _DMN_QUESTION.sub("dmninputexpr", entry)
    if "dmninputexpr" in replaced:
        return replaced
    try:
        ast.parse(entry, mode="eval")
    except SyntaxError:
        return input_expression + entry  # e.g. "> 5": an operator continues the input
    except (RecursionError, MemoryError, ValueError):
        return entry  # the sandbox check says what is wrong
    return f"({input_expression}) == ({entry})"


def _table_code(table: Any) -> Iterable[tuple[Wording, Text]]:
    """(what, expression) for every piece of Python a decision table runs: its inputs, each
    input entry as SpiffWorkflow will evaluate it, each output entry. An entry too long to
    check comes as a Wording (why it is refused) instead of its expression."""
    for inp in table.inputs:
        if inp.expression:
            yield wording("input '%(input)s'", input=str(inp.label or inp.name)), inp.expression
    for rule in table.rules:
        for entry in rule.inputEntries:
            name = entry.input.label or entry.input.name or entry.input.expression
            what = wording(
                "rule %(rule)s input '%(input)s'", rule=str(rule.row_number), input=str(name)
            )
            for lhs in entry.lhs:
                if lhs is None or not lhs.strip():
                    continue
                if len(lhs) > MAX_DMN_ENTRY:
                    yield (
                        what,
                        wording(
                            "%(length)s characters, more than %(limit)s",
                            length=len(lhs),
                            limit=MAX_DMN_ENTRY,
                        ),
                    )
                    continue
                yield what, _input_entry_code(entry.input.expression or "None", lhs)
        for entry in rule.outputEntries:
            if entry.text:
                yield wording("rule %(rule)s output", rule=str(rule.row_number)), entry.text


def _check_decisions(parser: EngineParser) -> list[Problem]:
    """Every input, input entry and output entry of every decision table, checked with the
    sandbox now rather than when a rule runs (an `__import__` in an input entry passed
    before); each problem names the DMN file, the decision and the rule."""
    problems = []
    for decision_id, dmn_parser in parser.dmn_parsers.items():
        filename = dmn_parser.filename or "?"
        try:
            dmn_parser.parse()
            tables = dmn_parser.decision.decisionTables
        except Exception as exc:  # the parser raises many kinds: refusals
            problems.append(Problem(filename, decision_id, f"{type(exc).__name__}: {exc}"))
            continue
        for table in tables:
            for what, code in _table_code(table):
                if isinstance(code, Wording):  # too long to check
                    said = wording("%(what)s: %(problem)s", what=what, problem=code)
                    problems.append(Problem(filename, decision_id, said))
                    continue
                try:
                    sandbox.check(code, "eval")
                except sandbox.SandboxViolation as exc:
                    said = wording("%(what)s: %(problem)s", what=what, problem=exc.said)
                    problems.append(Problem(filename, decision_id, said))
    return problems


def _decision_warnings(parser: EngineParser, codes: dict[str, list[Any]]) -> list[Problem]:
    found = []
    for decision_id, dmn_parser in parser.dmn_parsers.items():
        try:
            dmn_parser.parse()
            tables = dmn_parser.decision.decisionTables
        except Exception as exc:  # reported when a process calls it
            found.append(Problem(dmn_parser.filename or "?", decision_id, str(exc), "warning"))
            continue
        for table in tables:
            for message in table_warnings(table, codes):
                found.append(Problem(dmn_parser.filename or "?", decision_id, message, "warning"))
    return found


def _problem_from(exc: ValidationException, filename: str) -> Problem:
    element = getattr(exc, "id", "") or None
    line = getattr(exc, "line_number", "")
    message = str(exc).split("\n")[0]
    if not element and line:
        element = f"line {line}"
    return Problem(getattr(exc, "file_name", "") or filename, element, message)


def _check_references(filename: str, tree: etree._ElementTree) -> list[Problem]:
    """SpiffWorkflow reports a flow to a missing id misleadingly; name flow and target here."""
    problems = []
    for process in tree.getroot().iter(full_tag("process"), full_tag("subProcess")):
        ids = {el.get("id") for el in process.iter() if el.get("id")}
        for flow in process.findall("bpmn:sequenceFlow", NS):
            for attr in ("sourceRef", "targetRef"):
                ref = flow.get(attr)
                if ref not in ids:
                    said = wording(
                        "%(attribute)s '%(ref)s' names no element", attribute=attr, ref=str(ref)
                    )
                    problems.append(Problem(filename, flow.get("id"), said))
    all_ids = {el.get("id") for el in tree.getroot().iter() if el.get("id")}
    for boundary in tree.getroot().iter(full_tag("boundaryEvent")):
        ref = boundary.get("attachedToRef")
        if ref not in all_ids:
            said = wording(
                "%(attribute)s '%(ref)s' names no element", attribute="attachedToRef", ref=str(ref)
            )
            problems.append(Problem(filename, boundary.get("id"), said))
    return problems


def _check_conditions(filename: str, tree: etree._ElementTree) -> list[Problem]:
    """Flow conditions, checked here so that the problem names the flow, not the gateway."""
    problems = []
    for flow in tree.getroot().iter(full_tag("sequenceFlow")):
        condition = flow.find("bpmn:conditionExpression", NS)
        source = (condition.text or "").strip() if condition is not None else ""
        if source:
            try:
                sandbox.check(source, "eval")
            except sandbox.SandboxViolation as exc:
                said = wording("condition: %(problem)s", problem=exc.said)
                problems.append(Problem(filename, flow.get("id"), said))
    return problems


MAX_FORM_BYTES = 1_000_000
MAX_FORM_DEPTH = 64  # a form nests objects a few levels; the JSON parser recurses per level
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def load_json(text: str) -> Any:
    """A form file's JSON, refused (ValueError) when larger or deeper than any form needs,
    before the parser and the schema checks recurse into it (a 100k-deep file)."""
    if len(text.encode("utf-8")) > MAX_FORM_BYTES:
        raise ValueError(wording("larger than %(size)s KB", size=MAX_FORM_BYTES // 1000))
    too_deep = wording("nested more than %(depth)s levels deep", depth=MAX_FORM_DEPTH)
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_FORM_DEPTH:
            raise ValueError(too_deep)
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(too_deep) from None


def _said_by(exc: Exception) -> Text:
    """What a refusal raised as an exception says: the Wording it was raised with
    (`ValueError(wording(...))`, a SandboxViolation's `said`), else its text."""
    said = getattr(exc, "said", None)
    if isinstance(said, (str, Wording)):
        return said
    if len(exc.args) == 1 and isinstance(exc.args[0], Wording):
        return exc.args[0]
    return str(exc)


def _load_forms(
    sources: list[SourceFile], problems: list[Problem]
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The forms by key with their $refs inlined, and every form and shared definitions
    file by file name (the texts people read come from both)."""
    documents: dict[str, Any] = {}
    for src in sources:
        if src.kind != "form":
            continue
        try:
            schema = load_json(src.content)
            Draft202012Validator.check_schema(schema)
        except json.JSONDecodeError as exc:
            said = wording("not valid JSON: %(error)s", error=str(exc))
            problems.append(Problem(src.name, None, said))
            continue
        except ValueError as exc:  # too large or too deep
            problems.append(Problem(src.name, None, _said_by(exc)))
            continue
        except SchemaError as exc:
            said = wording("not a valid JSON Schema: %(error)s", error=str(exc.message))
            problems.append(Problem(src.name, None, said))
            continue
        if not isinstance(schema, dict):
            said = wording("a form file holds a JSON object")
            problems.append(Problem(src.name, None, said))
            continue
        documents[src.name] = schema
    registry = registry_of(documents)
    forms: dict[str, dict[str, Any]] = {}
    by_file: dict[str, Any] = {}
    # Shared definitions first: their texts are named by their own file, and a bad $ref in
    # them is reported once, not again for every form that uses the definition.
    ordered = sorted(
        (s for s in sources if s.name in documents), key=lambda s: not is_shared(s.name)
    )
    for src in ordered:
        schema, found = inline_refs(src.name, documents[src.name], registry)
        problems.extend([p for p in found if p not in problems])
        if is_shared(src.name):
            by_file[src.name] = documents[src.name]
            continue
        for i, check in enumerate(schema.get("x-checks", [])):
            try:
                sandbox.check(check["invalid_when"], "eval")
            except (KeyError, TypeError):
                said = wording("needs 'invalid_when'")
                problems.append(Problem(src.name, f"x-checks[{i}]", said))
            except sandbox.SandboxViolation as exc:
                problems.append(Problem(src.name, f"x-checks[{i}]", exc.said))
        problems.extend(_check_declared_fields(src.name, schema))
        forms[Path(src.name).stem] = by_file[src.name] = schema
    return forms, by_file


def form_of(sources: list[SourceFile], name: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One form file of a set of files as the task pages get it (its `$ref`s inlined from the
    set's other forms), with the problems of the set's forms; None when it does not load."""
    problems: list[Problem] = []
    _, by_file = _load_forms(sources, problems)
    schema = by_file.get(name)
    return (schema if isinstance(schema, dict) else None), problems


def _check_declared_fields(filename: str, schema: dict[str, Any]) -> list[Problem]:
    """`x-summary`, `x-public` and `x-search` are lists of field names; `x-public` names
    fields of this form and all its required ones, or a public report could never be
    submitted."""
    problems = [
        Problem(filename, key, wording("must be a list of field names"))
        for key in ("x-summary", "x-public", "x-search")
        if not _is_names(schema.get(key, []))
    ]
    if _status_entries(schema.get("x-public-status", [])) is None:
        message = wording('must be a list of field names or {"field": name, "title": text}')
        problems.append(Problem(filename, "x-public-status", message))
    public = schema.get("x-public")
    if not public or not _is_names(public):
        return problems
    unknown = [n for n in public if n not in (schema.get("properties") or {})]
    if unknown:
        said = wording("%(fields)s: not a field of this form", fields=_quoted(unknown))
        problems.append(Problem(filename, "x-public", said))
    left_out = [n for n in schema.get("required") or [] if n not in public]
    if left_out:
        message = wording(
            "leaves out the required %(fields)s: a public report could never be submitted",
            fields=_quoted(left_out),
        )
        problems.append(Problem(filename, "x-public", message))
    return problems


def _check_summary(process: CompiledProcess, form_files: dict[str, Any]) -> list[Problem]:
    """The start form's `x-summary`, `x-search` and `x-public-status` name fields of the
    case: of the start form or of a task form (a summary may show the grade a later task
    sets, a search may find the measures a department reported, the status page the reason
    the dispatcher gave)."""
    fields = process.case_properties()
    start = process.form(process.start_form) or {}
    problems: list[Problem] = []
    status = [n for n, _ in _status_entries(start.get("x-public-status")) or []]
    for key, names in (
        ("x-summary", start.get("x-summary") or []),
        ("x-search", start.get("x-search") or []),
        ("x-public-status", status),
    ):
        if not _is_names(names):
            continue  # said by _check_declared_fields
        unknown = [n for n in names if n not in fields]
        if unknown:
            filename = next(f for f in form_files if Path(f).stem == process.start_form)
            message = wording(
                "%(fields)s: no form of '%(process)s' has it",
                fields=_quoted(unknown),
                process=process.process_id,
            )
            problems.append(Problem(filename, key, message))
    return problems


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(n, str) for n in value)


def _status_entries(value: Any) -> list[tuple[str, str | None]] | None:
    """`x-public-status` as (field, public title or None); None when it is malformed."""
    if value is None:
        return []
    if not isinstance(value, list):
        return None
    entries: list[tuple[str, str | None]] = []
    for item in value:
        if isinstance(item, str):
            entries.append((item, None))
        elif (
            isinstance(item, dict)
            and isinstance(item.get("field"), str)
            and isinstance(item.get("title", ""), str)
            and set(item) <= {"field", "title"}
        ):
            entries.append((item["field"], item.get("title") or None))
        else:
            return None
    return entries


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _properties(task_spec: Any) -> dict[str, str]:
    extensions = getattr(task_spec, "extensions", None) or {}
    return extensions.get("properties") or {}


# What each piece of Python of a task spec is, by the spec's attribute that holds it.
_SPEC_CODE = {
    "script": wording("script"),
    "prescript": wording("prescript"),
    "postscript": wording("postscript"),
    "condition": wording("condition"),
    "cardinality": wording("cardinality"),
}


def _expressions(task_spec: Any) -> Iterable[tuple[Wording, str, str]]:
    """(what, source, mode) for every piece of Python a task spec will run."""
    for attr in ("script", "prescript", "postscript"):
        source = getattr(task_spec, attr, None)
        if source:
            yield _SPEC_CODE[attr], source, "exec"
    for attr in ("condition", "cardinality"):
        source = getattr(task_spec, attr, None)
        if isinstance(source, str) and source:
            yield _SPEC_CODE[attr], source, "eval"
    definition = getattr(task_spec, "event_definition", None)
    expression = getattr(definition, "expression", None)
    if isinstance(expression, str) and expression:
        yield (
            wording("timer") if isinstance(definition, TimerEventDefinition) else wording("event"),
            expression,
            "eval",
        )
    props = _properties(task_spec)
    for name in ("candidates", "due", "queue", "notify_to", "notify_text"):
        if props.get(name):
            yield wording("property '%(property)s'", property=name), props[name], "eval"
    # a business rule task's table: checked with its DMN file (_check_decisions)


def _check_timer_literal(definition: Any, expression: str) -> Wording | None:
    """A literal like "P3X" passes SpiffWorkflow's parse and fails only when the timer starts."""
    try:
        value = ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        return None  # computed at run time
    if not isinstance(value, str):
        return wording(
            "timer expression must produce a string, got %(type)s", type=type(value).__name__
        )
    try:
        if isinstance(definition, ClockCycle):
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif isinstance(definition, ClockDuration):
            TimerEventDefinition.parse_iso_duration(value)
        elif isinstance(definition, ClockTimeDate):
            TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return wording("invalid ISO 8601 timer value %(value)s", value=repr(value))
    return None


def _inspect_specs(process: CompiledProcess, filename: str, problems: list[Problem]) -> None:
    specs = [process.spec, *process.subprocess_specs.values()]
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, PrincipalMultiInstance):
                task_spec.listen(spec)
            element = task_spec.bpmn_id or task_spec.name
            for what, source, mode in _expressions(task_spec):
                try:
                    sandbox.check(source, mode)
                except sandbox.SandboxViolation as exc:
                    said = wording("%(what)s: %(problem)s", what=what, problem=exc.said)
                    problems.append(Problem(filename, element, said))
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                message = _check_timer_literal(definition, definition.expression)
                if message:
                    problems.append(Problem(filename, element, message))
            props = _properties(task_spec)
            if props.get("notify"):
                process.notify[task_spec.name] = NotifyInfo(
                    props["notify"], props.get("notify_to"), props.get("notify_text")
                )
            if spec is process.spec and type(task_spec).__name__ == "StartEvent":
                process.start_form = process.start_form or props.get("form")
            if getattr(task_spec, "manual", False):
                form_key = props.get("form") or task_spec.bpmn_id
                if props.get("form") and form_key not in process.forms:
                    problems.append(Problem(filename, element, _no_form(form_key)))
                process.human_tasks[task_spec.name] = HumanTaskInfo(
                    lane=task_spec.lane,
                    title=task_spec.bpmn_name or task_spec.bpmn_id or task_spec.name,
                    form_key=form_key if form_key in process.forms else None,
                    candidates=props.get("candidates"),
                    due=props.get("due"),
                    queue=props.get("queue"),
                )
    if process.start_form and process.start_form not in process.forms:
        problems.append(Problem(filename, "startEvent", _no_form(process.start_form)))
    start = process.form(process.start_form) or {}
    process.summary_fields = tuple(start.get("x-summary") or ())
    process.public_fields = tuple(start.get("x-public") or ())
    # Without x-search (a form written before it existed) a case is found by its summary.
    process.search_fields = tuple(start.get("x-search", start.get("x-summary")) or ())
    process.public_status = tuple(_status_entries(start.get("x-public-status")) or ())


def _in_document_order(process: CompiledProcess, tree: etree._ElementTree | None) -> None:
    """The user tasks in the order the BPMN file lists them, which is how its author reads
    the process (SpiffWorkflow's own order follows subprocesses last): queue tabs and the
    case page's steps follow it."""
    if tree is None:
        return
    position = {el.get("id"): i for i, el in enumerate(tree.iter()) if isinstance(el.tag, str)}
    ordered = sorted(
        process.human_tasks.items(),
        key=lambda item: position.get(_bpmn_id(process, item[0]), len(position)),
    )
    process.human_tasks = dict(ordered)


def _bpmn_id(process: CompiledProcess, spec_name: str) -> str | None:
    for spec in (process.spec, *process.subprocess_specs.values()):
        task_spec = spec.task_specs.get(spec_name)
        if task_spec is not None:
            return str(task_spec.bpmn_id) if task_spec.bpmn_id else None
    return None


def _no_form(key: str) -> Wording:
    if is_shared(key):
        return wording(
            "form '%(form)s' not found: forms/%(form)s.json holds shared definitions, not a form",
            form=key,
        )
    return wording("form '%(form)s' not found", form=key)
