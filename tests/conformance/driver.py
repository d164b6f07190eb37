"""Runs a BPMN process twice with the same inputs and compares: plain SpiffWorkflow vs our engine.

One side ("plain") is SpiffWorkflow 3.2 as shipped: `SpiffBpmnParser`, `BpmnWorkflow`, the
default script engine, everything in memory. The other side ("engine") is HazardFlow's facade
on a fresh SQLite database, with the live-workflow cache cleared before every command so that
each step restores the workflow from the database.

Both sides are driven by the same deterministic policy (`drive`), one action at a time:

1. complete the first READY manual task (in task-tree order) with the scenario's data for it;
2. else deliver a message the process waits for, the one delivered least often so far (with
   the waiting process's own correlations and the scenario's payload);
3. else advance the clock to one second after the earliest waiting timer and fire it;
4. else stop: the process has ended, or waits for something no one sends (also after three
   actions in a row that ran no task).

then compares the outcome: completed or not, the task specs run in order of completion, the end
events reached, and the final case data (cleaned as the engine cleans it). See
docs/conformance.md for the verdicts and the intended differences.

The plain side's timers read `datetime.now()` themselves; for this baseline only, the `datetime`
name inside SpiffWorkflow's timer module is swapped, while the plain side runs, for a subclass
whose `now()` reads the side's frozen clock. Production code is not patched.
"""

from __future__ import annotations

import atexit
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import DeployRefused, EngineError, WorkflowFailed
from engine.clock import FrozenClock, parse_iso
from engine.config import PROJECT_ROOT, load_config
from engine.facade import Engine
from engine.models import Instance, ProcessVersion, TaskCandidate
from engine.org import Actor
from engine.projection import snapshot
from engine.spiff_timers import fire_time
from engine.tasks import TaskQuery
from engine.workflow import case_data, restore

CORPUS_ENV = "HAZARDFLOW_CORPUS"
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "spiffworkflow"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # the engine tests' Monday morning
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


# --- the corpus ------------------------------------------------------------------------------


def corpus_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The corpus folder: the argument, else $HAZARDFLOW_CORPUS, else ../shared/... if there."""
    raw = explicit or os.environ.get(CORPUS_ENV)
    path = Path(raw) if raw else DEFAULT_CORPUS
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return path if path.is_dir() else None


@dataclass(frozen=True)
class Case:
    """One executable process of one BPMN file, with the files its deployment needs."""

    name: str  # "<file relative to the corpus>:<process id>"
    file: str  # relative to the corpus (or the folder given)
    process_id: str
    bpmn: tuple[Path, ...]  # the file itself first, then the files of processes it calls
    dmn: tuple[Path, ...]  # the files of the decisions it (or a called process) uses


def is_bpmn(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".bpmn" or path.name.endswith(".bpmn20.xml"))


def _xml(path: Path) -> etree._Element | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError):
        return None


def _references(root: etree._Element) -> tuple[list[str], list[str]]:
    """(called process ids, called decision ids) of one BPMN document."""
    calls = [
        el.get("calledElement")
        for el in root.iter(f"{{{BPMN_NS}}}callActivity")
        if el.get("calledElement")
    ]
    decisions = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag.endswith("}calledDecisionId") and (el.text or "").strip():
            decisions.append(el.text.strip())
        for name, value in el.attrib.items():  # camunda:, operaton:decisionRef
            if name.endswith("}decisionRef") and value:
                decisions.append(value)
        if el.tag.endswith("}field") and el.get("name") == "decisionTableReferenceKey":
            decisions.append("".join(el.itertext()).strip())  # Flowable's DMN task
    return calls, decisions


def discover(root: Path) -> tuple[list[Case], list[str]]:
    """Every executable process of every BPMN file under root; and the files that have none.

    A deployment must be self-contained: it holds the file, the BPMN files of its folder that
    define the processes it calls (transitively; the first file in name order wins when two
    define the same id), and the DMN files of its folder or below that define the decisions
    it uses.
    """
    cases: list[Case] = []
    without: list[str] = []
    folders: dict[Path, tuple[dict[str, Path], dict[str, Path]]] = {}
    for path in sorted(p for p in root.rglob("*") if is_bpmn(p)):
        rel = path.relative_to(root).as_posix()
        doc = _xml(path)
        ids = [] if doc is None else _executable_ids(doc)
        if not ids:
            without.append(rel)
            continue
        if path.parent not in folders:
            folders[path.parent] = _folder_index(path.parent)
        processes, decisions = folders[path.parent]
        bpmn, dmn = [path], []
        todo = [path]
        while todo:
            current = _xml(todo.pop())
            if current is None:
                continue
            calls, used = _references(current)
            for called in calls:
                other = processes.get(called)
                if other is not None and other not in bpmn:
                    bpmn.append(other)
                    todo.append(other)
            for decision in used:
                other = decisions.get(decision)
                if other is not None and other not in dmn:
                    dmn.append(other)
        for process_id in ids:
            cases.append(Case(f"{rel}:{process_id}", rel, process_id, tuple(bpmn), tuple(dmn)))
    return cases, without


def _executable_ids(doc: etree._Element) -> list[str]:
    return [
        p.get("id")
        for p in doc.iter(f"{{{BPMN_NS}}}process")
        if p.get("id") and p.get("isExecutable", "true").lower() != "false"
    ]


def _folder_index(folder: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    processes: dict[str, Path] = {}
    for path in sorted(p for p in folder.iterdir() if is_bpmn(p)):
        doc = _xml(path)
        for process in [] if doc is None else doc.iter(f"{{{BPMN_NS}}}process"):
            processes.setdefault(process.get("id"), path)
    decisions: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.dmn")):
        doc = _xml(path)
        for el in [] if doc is None else doc.iter():
            if isinstance(el.tag, str) and el.tag.endswith("}decision") and el.get("id"):
                decisions.setdefault(el.get("id"), path)
    return processes, decisions


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """The inputs of one run: the same on both sides.

    tasks: data per task id (bpmn id); a list gives the data for the 1st, 2nd, ... time the
    task is completed (the last entry repeats); "*" is the default for every other task.
    messages: payload per message name (default: an empty dict).
    timers_first: fire a due timer before completing READY tasks (exercises boundary timers).
    """

    start: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, Any] = field(default_factory=dict)
    timers_first: bool = False

    def task_data(self, bpmn_id: str, round_: int) -> dict[str, Any]:
        data = self.tasks.get(bpmn_id, self.tasks.get("*", {}))
        if isinstance(data, list):
            data = data[min(round_, len(data) - 1)] if data else {}
        return json.loads(json.dumps(data))  # a fresh copy for each side


# Inputs for corpus processes that branch on data a person or a caller provides; chosen from
# the variables the files' own conditions and scripts read. Keys are "file" or "file:process"
# (fnmatch patterns). Everything else runs with empty data.
SCENARIOS: dict[str, Scenario] = {
    "bpmn/data/Test-Workflows/Parallel-*.bpmn20.xml": Scenario(tasks={"*": {"choice": "Yes"}}),
    "bpmn/data/Test-Workflows/Timer-Intermediate.bpmn20.xml": Scenario(
        start={"due_time": "2026-03-03T09:00:00+00:00"}
    ),
    # Task data goes to the task whose form (camunda:formData) has the field.
    "bpmn/data/boundary.bpmn": Scenario(tasks={"Activity_Pester_Dad": {"answer": "Yes"}}),
    "bpmn/data/timer-non-interrupt-boundary.bpmn": Scenario(
        tasks={"Activity_Work": {"work_done": "Yes"}}, timers_first=True
    ),
    "bpmn/data/timer-cycle.bpmn": Scenario(timers_first=True),
    "bpmn/data/boundary_timer_on_task.bpmn": Scenario(timers_first=True),
    "bpmn/data/lanes.bpmn": Scenario(tasks={"Activity_B1": {"NeedClarification": False}}),
    "bpmn/data/exclusive_gateway_no_default.bpmn": Scenario(start={"x": 2}),
    "bpmn/data/inclusive_gateway.bpmn": Scenario(start={"u": 1, "v": 0, "w": 1}),
    "bpmn/data/io_spec.bpmn": Scenario(start={"in_1": 1, "in_2": "hello"}),
    "bpmn/data/io_spec_on_task.bpmn": Scenario(tasks={"*": {"out_1": 2, "out_2": "HELLO"}}),
    "bpmn/data/*multiinstance_*.bpmn": Scenario(
        start={"input_data": [1, 2, 3]}, tasks={"*": {"output_item": 1}}
    ),
    "spiff/data/*m[iu]*.bpmn": Scenario(  # script_on_mi, spiff_multiinstance
        start={"input_data": [1, 2, 3]}, tasks={"*": {"output_item": 5}}
    ),
    "bpmn/data/standard_loop.bpmn": Scenario(start={"done": False}, tasks={"*": {"done": True}}),
    "bpmn/data/return_to_event.bpmn": Scenario(tasks={"*": {"repeat": False}}),
    "bpmn/data/transaction.bpmn": Scenario(
        tasks={"Activity_Get_Data": {"value": "x"}, "Activity_Get_Quantity": {"quantity": 2}}
    ),
    "*/data/data_object*.bpmn": Scenario(
        tasks={"*": {"obj_1": "hello", "obj_2": "world", "val": True}}
    ),
    "bpmn/data/conditional_event.bpmn": Scenario(
        tasks={"*": {"task_a_done": True, "task_c_done": True}}
    ),
    "spiff/data/prescript_postscript*.bpmn": Scenario(
        start={"a": 1, "b": 2, "old": "abc", "in_data": "xyz"}
    ),
    "spiff/data/signal_event_payload.bpmn": Scenario(tasks={"*": {"v1": 1, "v2": 2}}),
    "spiff/data/error_event_payload.bpmn": Scenario(tasks={"*": {"error": True, "payload": 7}}),
    "spiff/data/escalation_event_payload.bpmn": Scenario(
        tasks={"*": {"escalation": True, "payload": 7}}
    ),
    "spiff/data/receive_correlations.bpmn": Scenario(start={"value_1": "a", "value_2": "b"}),
    # Messages: payloads carry what the correlation retrieval expressions read.
    "*/data/correlation*.bpmn": Scenario(
        tasks={"*": {"task_num": 1, "task_name": "one", "response": "yes"}},
        messages={
            "init_proc_2": {"num": 1, "name": "one", "task_num": 1},
            "init_proc_3": {"num": 1, "name": "one", "task_num": 1},
            "proc_2_response": {"init_id": 1, "response": "two"},
            "proc_3_response": {"init_id": 1, "response": "three"},
        },
    ),
    "bpmn/data/collaboration.bpmn": Scenario(
        messages={"Love Letter Response": {"from_name": "Peggy", "text": "yes"}}
    ),
    "spiff/data/*_event*.bpmn": Scenario(messages={"B": {"uid": 1, "text": "b"}}),
    "spiff/data/default_correlation_key.bpmn": Scenario(messages={"B": {"uid": 1}}),
}


def _matches(case: Case, pattern: str) -> bool:
    """Patterns name corpus paths ("bpmn/data/x.bpmn[:process]"), whatever folder was given."""
    path = case.bpmn[0].as_posix()
    return fnmatch(f"{path}:{case.process_id}", "*" + pattern) or fnmatch(path, "*" + pattern)


def scenario_for(case: Case) -> Scenario:
    for pattern, scenario in SCENARIOS.items():
        if _matches(case, pattern):
            return scenario
    return Scenario()


# --- outcomes --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one side did. `status`: completed | truncated | waiting | failed | refused."""

    side: str
    status: str = "waiting"
    completed: bool = False  # as the side itself reports it
    tasks: list[str] = field(default_factory=list)
    end_events: list[str] = field(default_factory=list)
    data: Any = None
    error: str | None = None
    actions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # engine only: broken invariants
    crashed: bool = False  # engine only: an exception that is not an EngineError


class Refused(Exception):
    """The side would not load the files."""


class Failed(Exception):
    """An action failed inside the process (a script, a condition, ...)."""


class BudgetExceeded(Failed):
    """The plain side ran more tasks or longer than the driver allows."""


@dataclass(frozen=True)
class Limits:
    max_actions: int = 200  # tasks completed + messages sent + timer firings
    max_tasks: int = 400  # tasks run by the plain side in one run
    max_seconds: float = 10.0  # wall time of the plain side in one run
    max_idle: int = 3  # actions in a row that run no task: the process waits for nothing we send


@dataclass
class Observation:
    finished: bool
    ready: list[tuple[str, str]]  # (task id, bpmn id) of READY manual tasks, tree order
    messages: list[tuple[str, dict[str, Any]]]  # (name, correlations) of awaited messages
    next_timer: datetime | None
    done: int  # tasks completed so far


# --- helpers shared by both sides (they read a workflow; they never change it) --------------


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False, sort_keys=True))


def _all_tasks(workflow: BpmnWorkflow) -> Iterator[Any]:
    """Every task of the workflow and its subprocesses: SpiffWorkflow's flat maps, no depth."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def completed_count(workflow: BpmnWorkflow) -> int:
    return sum(1 for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED)


def completed_sequence(workflow: BpmnWorkflow) -> list[str]:
    done = [t for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED]
    order = {t.id: i for i, t in enumerate(_all_tasks(workflow))}
    done.sort(key=lambda t: (t.last_state_change, order[t.id]))
    return [t.task_spec.name for t in done]


def end_events(workflow: BpmnWorkflow) -> list[str]:
    ends = [
        t
        for t in workflow.tasks.values()
        if t.state == TaskState.COMPLETED and isinstance(t.task_spec, EndEvent)
    ]
    ends.sort(key=lambda t: t.last_state_change)
    return [t.task_spec.bpmn_id or t.task_spec.name for t in ends]


def ready_manual(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    return [
        (str(t.id), t.task_spec.bpmn_id or t.task_spec.name)
        for t in workflow.get_tasks(state=TaskState.READY)
        if t.task_spec.manual
    ]


def _message_definitions(definition: Any) -> Iterator[Any]:
    if isinstance(definition, MessageEventDefinition):
        yield definition
    elif isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _message_definitions(inner)


def awaited_messages(workflow: BpmnWorkflow) -> list[tuple[str, dict[str, Any], Any]]:
    """(name, correlations, definition) of every message a waiting task would catch."""
    found: dict[str, tuple[str, dict[str, Any], Any]] = {}
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        for definition in _message_definitions(task.task_spec.event_definition):
            found.setdefault(
                definition.name, (definition.name, dict(task.workflow.correlations), definition)
            )
    return [found[name] for name in sorted(found)]


def waiting_timers(workflow: BpmnWorkflow) -> list[datetime]:
    times = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            try:
                at = fire_time(task)
            except (TypeError, ValueError):
                at = None
            if at is not None:
                times.append(at)
    return sorted(times)


def final_data(workflow: BpmnWorkflow) -> Any:
    """The case data as a person sees it, computed as the engine computes instance data."""
    return _jsonable(case_data(workflow, snapshot(workflow).waiting()))


# --- the plain side --------------------------------------------------------------------------

_PLAIN_CLOCK_LOCK = threading.Lock()


def _frozen_datetime(clock: FrozenClock) -> type[datetime]:
    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            at = clock.now()
            return at.astimezone(tz) if tz is not None else at.replace(tzinfo=None)

    return FrozenDatetime


@contextmanager
def plain_clock(clock: FrozenClock) -> Iterator[None]:
    """While the plain side runs, its timers read `clock` (test baseline only)."""
    with _PLAIN_CLOCK_LOCK:
        original = spiff_timer_module.datetime
        spiff_timer_module.datetime = _frozen_datetime(clock)
        try:
            yield
        finally:
            spiff_timer_module.datetime = original


class PlainSide:
    """SpiffWorkflow as shipped, in memory."""

    name = "plain"

    def __init__(self, case: Case, limits: Limits) -> None:
        self.case = case
        self.limits = limits
        self.clock = FrozenClock(T0)
        self.workflow: BpmnWorkflow | None = None
        self.count = 0
        self.deadline = 0.0

    def _counted(self, _task: Any) -> None:
        self.count += 1
        if self.count > self.limits.max_tasks:
            raise BudgetExceeded(f"ran more than {self.limits.max_tasks} tasks")
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"ran longer than {self.limits.max_seconds:.0f} s")

    def _steps(self) -> None:
        try:
            with plain_clock(self.clock):
                self.workflow.do_engine_steps(did_complete_task=self._counted)
        except BudgetExceeded:
            raise
        except Exception as exc:  # anything the process does wrong
            raise Failed(f"{type(exc).__name__}: {exc}") from exc

    def start(self, data: dict[str, Any]) -> None:
        parser = SpiffBpmnParser()
        try:
            for path in self.case.bpmn:
                parser.add_bpmn_file(str(path))
            for path in self.case.dmn:
                parser.add_dmn_file(str(path))
            spec = parser.get_spec(self.case.process_id)
            subprocess_specs = parser.get_subprocess_specs(self.case.process_id)
        except Exception as exc:  # every parser error is a refusal
            raise Refused(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
        self.deadline = time.monotonic() + self.limits.max_seconds
        try:
            self.workflow = BpmnWorkflow(spec, subprocess_specs)
            for task in self.workflow.get_tasks(state=TaskState.READY):
                task.data.update(data)
        except Exception as exc:
            raise Failed(f"{type(exc).__name__}: {exc}") from exc
        self._steps()

    def observe(self) -> Observation:
        wf = self.workflow
        with plain_clock(self.clock):
            finished = wf.is_completed()
            return Observation(
                finished=finished,
                ready=[] if finished else ready_manual(wf),
                messages=[(n, c) for n, c, _d in awaited_messages(wf)],
                next_timer=next(iter(waiting_timers(wf)), None),
                done=completed_count(wf),
            )

    def complete(self, task_id: str, data: dict[str, Any]) -> None:
        task = next(t for t in _all_tasks(self.workflow) if str(t.id) == task_id)
        task.data.update(data)
        try:
            with plain_clock(self.clock):
                task.run()
        except Exception as exc:
            raise Failed(f"{type(exc).__name__}: {exc}") from exc
        self._steps()

    def send_message(self, name: str, payload: Any, correlations: dict[str, Any]) -> None:
        definition = next(d for n, _c, d in awaited_messages(self.workflow) if n == name)
        try:
            with plain_clock(self.clock):
                self.workflow.send_event(BpmnEvent(definition, payload, correlations))
        except Exception as exc:
            raise Failed(f"{type(exc).__name__}: {exc}") from exc
        self._steps()

    def fire_timers(self, at: datetime) -> None:
        self.clock.set(at)
        try:
            with plain_clock(self.clock):
                self.workflow.refresh_timers()
        except Exception as exc:
            raise Failed(f"{type(exc).__name__}: {exc}") from exc
        self._steps()

    def outcome(self, outcome: Outcome) -> None:
        wf = self.workflow
        if wf is None:
            return
        with plain_clock(self.clock):
            outcome.completed = wf.is_completed()
            outcome.tasks = completed_sequence(wf)
            outcome.end_events = end_events(wf)
            outcome.data = final_data(wf)
        if outcome.status == "waiting" and outcome.completed:
            outcome.status = "completed" if outcome.end_events else "truncated"


# --- the engine side -------------------------------------------------------------------------

_TEMPLATES: dict[int, Path] = {}
_TEMPLATE_LOCK = threading.Lock()


def _template_database() -> Path:
    """A migrated, empty SQLite database, built once per process and copied for each case."""
    with _TEMPLATE_LOCK:
        path = _TEMPLATES.get(os.getpid())
        if path is None or not path.exists():
            folder = Path(tempfile.mkdtemp(prefix="hazardflow-conformance-"))
            atexit.register(shutil.rmtree, folder, True)
            path = folder / "template.db"
            engine = Engine(_config(path, folder), clock=FrozenClock(T0))
            engine.upgrade()
            engine.close()
            _TEMPLATES[os.getpid()] = path
        return path


def _config(database: Path, workdir: Path) -> Any:
    return load_config(
        PROJECT_ROOT / "config.yaml",
        database_url=f"sqlite:///{database}",
        data_dir=str(workdir / "data"),
    )


def new_engine(workdir: Path, clock: FrozenClock) -> Engine:
    """An engine on its own fresh SQLite database under workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "engine.db"
    shutil.copyfile(_template_database(), database)
    return Engine(_config(database, workdir), clock=clock)


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class EngineSide:
    """HazardFlow's facade; the live cache is cleared before every command and observation."""

    name = "engine"

    def __init__(self, case: Case, workdir: Path) -> None:
        self.case = case
        self.clock = FrozenClock(T0)
        self.engine = new_engine(workdir, self.clock)
        self.instance_id: int | None = None
        self.problems: list[str] = []
        self.actor = Actor("conformance", frozenset({"role:admin"}), frozenset({"admin"}))

    def close(self) -> None:
        self.engine.close()

    @contextmanager
    def _command(self) -> Iterator[None]:
        self.engine.live.clear()  # every command restores the workflow from the database
        try:
            yield
        except WorkflowFailed as exc:
            raise Failed(str(exc)) from exc

    def _restored(self, full: bool = False) -> tuple[dict[str, Any], BpmnWorkflow]:
        """The case as the facade shows it, and its workflow restored from the row.

        Per step the cheap view: status, the driver's queue (every candidate group), the
        timer rows; `full` is the case page's view (data, error, history).
        """
        self.engine.live.clear()
        if full:
            view = self.engine.instance(self.instance_id)
        else:
            view = {
                "status": self.engine.instance_summary(self.instance_id)["status"],
                "open_tasks": self.engine.tasks_for(
                    self._worker(), TaskQuery(instance_id=self.instance_id, limit=100_000)
                ),
                "timers": [t for t in self.engine.timers() if t["instance_id"] == self.instance_id],
            }
        with self.engine.db.reading() as session:
            row = session.get(Instance, self.instance_id)
            version = session.get(ProcessVersion, row.process_version_id)
            compiled = self.engine.compiled.of_version(session, version)
            workflow = restore(row, compiled, self.engine.runtime.script_engine)
        return view, workflow

    def _worker(self) -> Actor:
        """The driver may work any task: it is a candidate of every group of every task."""
        with self.engine.db.reading() as session:
            groups = frozenset(session.scalars(select(TaskCandidate.group_key).distinct()))
        return Actor("conformance", self.actor.groups | groups, frozenset())

    def start(self, data: dict[str, Any]) -> None:
        paths = [*self.case.bpmn, *self.case.dmn]
        try:
            self.engine.deploy(paths)
        except DeployRefused as exc:
            raise Refused(str(exc)) from exc
        with self._command():
            self.instance_id = self.engine.start(self.case.process_id, data, self.actor)

    def observe(self) -> Observation:
        view, wf = self._restored()
        self._check(view, wf)
        running = view["status"] == "running"
        return Observation(
            finished=not running,
            ready=ready_manual(wf) if running else [],
            messages=[(n, c) for n, c, _d in awaited_messages(wf)] if running else [],
            next_timer=min((parse_iso(t["fire_at"]) for t in view["timers"]), default=None),
            done=completed_count(wf),
        )

    def complete(self, task_id: str, data: dict[str, Any]) -> None:
        with self._command():
            self.engine.complete(task_id, self._worker(), data)

    def send_message(self, name: str, payload: Any, correlations: dict[str, Any]) -> None:
        with self._command():
            self.engine.send_message(
                name,
                payload,
                self.actor,
                instance_id=self.instance_id,
                correlations=correlations,
            )

    def fire_timers(self, at: datetime) -> None:
        """Fire through the sweeper's entry point; it logs (not raises) a case's failure."""
        self.clock.set(at)
        errors = _Captured()
        facade_log = logging.getLogger("engine.facade")
        facade_log.addHandler(errors)
        facade_log.propagate, propagate = False, facade_log.propagate
        try:
            with self._command():
                fired = self.engine.fire_due_timers()
        finally:
            facade_log.removeHandler(errors)
            facade_log.propagate = propagate
        if errors.messages:
            raise Failed(errors.messages[0])
        if not fired:
            raise Failed("no timer fired although one was due")

    def _check(self, view: dict[str, Any], wf: BpmnWorkflow) -> None:
        """The projection must match the state: what the tables say is what the workflow says."""
        running = view["status"] == "running"
        ready = {tid for tid, _b in ready_manual(wf)} if running else set()
        listed = {t["id"] for t in view["open_tasks"]}
        if ready != listed:
            self.problems.append(f"open tasks {sorted(listed)} but READY {sorted(ready)}")
        waiting = {at.isoformat() for at in waiting_timers(wf)} if running else set()
        rows = {parse_iso(t["fire_at"]).isoformat() for t in view["timers"]}
        if waiting != rows:
            self.problems.append(f"timer rows {sorted(rows)} but waiting {sorted(waiting)}")

    def outcome(self, outcome: Outcome) -> None:
        if self.instance_id is None:
            return
        view, wf = self._restored()
        self._check(view, wf)  # after a failed command too: nothing half-written
        view, wf = self._restored(full=True)
        outcome.problems = list(dict.fromkeys(self.problems))
        outcome.completed = view["status"] == "completed"
        outcome.tasks = completed_sequence(wf)
        outcome.end_events = end_events(wf)
        outcome.data = _jsonable(view["data"])
        if view["status"] == "completed" and view["end_event"] not in outcome.end_events:
            outcome.problems.append(
                f"end_event {view['end_event']!r} not among {outcome.end_events}"
            )
        if outcome.status == "waiting":
            if view["status"] == "completed":
                outcome.status = "completed"
            elif view["status"] == "error":
                outcome.status, outcome.error = "stopped", view["error"]


# --- the policy ------------------------------------------------------------------------------


def drive(side: Any, scenario: Scenario, limits: Limits) -> Outcome:
    """Run one side to its end (or until it waits for nothing we send) and describe it."""
    outcome = Outcome(side.name)
    rounds: dict[str, int] = {}  # completions per task id, for the scenario's data lists
    sent: dict[str, int] = {}  # deliveries per message name
    idle = 0  # actions in a row after which no further task completed
    try:
        try:
            side.start(json.loads(json.dumps(scenario.start)))
            outcome.actions.append("start")
            seen = side.observe()
            for _ in range(limits.max_actions):
                if seen.finished:
                    break
                if seen.next_timer is not None and (
                    scenario.timers_first or not (seen.ready or seen.messages)
                ):
                    at = max(seen.next_timer + timedelta(seconds=1), side.clock.now())
                    outcome.actions.append(f"timer {at.isoformat()}")
                    side.fire_timers(at)
                elif seen.ready:
                    task_id, bpmn_id = seen.ready[0]
                    data = scenario.task_data(bpmn_id, rounds.get(bpmn_id, 0))
                    rounds[bpmn_id] = rounds.get(bpmn_id, 0) + 1
                    outcome.actions.append(f"complete {bpmn_id}")
                    side.complete(task_id, data)
                elif seen.messages:  # the one delivered least often so far, then by name
                    name, correlations = min(seen.messages, key=lambda m: (sent.get(m[0], 0), m[0]))
                    sent[name] = sent.get(name, 0) + 1
                    payload = json.loads(json.dumps(scenario.messages.get(name, {})))
                    outcome.actions.append(f"message {name}")
                    side.send_message(name, payload, correlations)
                else:
                    break  # the process waits for something no one sends
                before, seen = seen, side.observe()
                idle = 0 if seen.done > before.done else idle + 1
                if idle >= limits.max_idle:
                    outcome.error = f"no task ran after the last {idle} actions"
                    break
            else:
                outcome.error = f"still running after {limits.max_actions} actions"
        except Refused as exc:
            outcome.status, outcome.error = "refused", str(exc)
            return outcome
        except Failed as exc:
            outcome.status, outcome.error = "failed", str(exc)
        except EngineError as exc:
            outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a crash is itself the finding
            outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
            outcome.crashed = side.name == "engine"
        side.outcome(outcome)
    finally:
        if isinstance(side, EngineSide):
            side.close()
    return outcome


# --- verdicts --------------------------------------------------------------------------------


@dataclass
class Verdict:
    kind: str  # same | differs | both fail | refused by sandbox | intended
    detail: str = ""
    plain: Outcome | None = None
    engine: Outcome | None = None

    @property
    def line(self) -> str:
        return self.kind + (f": {self.detail}" if self.detail else "")


# Intended differences, each a conscious decision explained in docs/conformance.md.
# case name (fnmatch pattern) -> (verdict kind, words the detail must contain)
INTENDED: dict[str, tuple[str, str]] = {
    # The sandbox: no function definitions, no introspection (see engine/sandbox.py).
    "bpmn/data/ScriptTest.bpmn:*": ("refused by sandbox", "'def' is not allowed"),
    "bpmn/data/random_fact.bpmn:*": ("differs", "camunda:inputParameter 'Fact.type' is not"),
    "bpmn/data/Test-Workflows/CallActivity-Escalation-Test*.bpmn20.xml:*": (
        "refused by sandbox",
        "name 'globals' is not allowed",
    ),
    "spiff/data/script_task_with_unit_tests.bpmn:*": (
        "refused by sandbox",
        "name 'locals' is not allowed",
    ),
    # SpiffArena names a task's form file; the file is not in the corpus (docs/interop.md).
    "spiff/data/spiff_properties.bpmn:*": ("differs", "formJsonSchemaFilename"),
    "spiff/data/user_task_variable.bpmn:*": ("differs", "formJsonSchemaFilename"),
    # A deployment is checked whole: one broken process in a file refuses the file.
    "bpmn/data/Test-Workflows/Parallel-Many-Threads-At-Same-Point-Nested.bpmn20.xml:sid-4844*": (
        "differs",
        "engine refused: Parallel-Many-Threads-At-Same-Point-Nested",
    ),
}

SANDBOX_WORDS = (
    "sandbox",
    "not allowed",
    "script:",
    "prescript:",
    "postscript:",
    "condition:",
    "cardinality:",
)


def _is_sandbox(error: str | None) -> bool:
    return bool(error) and any(w in error for w in SANDBOX_WORDS)


def _first_difference(plain: Outcome, ours: Outcome) -> str | None:
    if plain.completed != ours.completed:
        return f"completed: plain {plain.completed}, engine {ours.completed}"
    if plain.end_events != ours.end_events:
        return f"end events: plain {plain.end_events}, engine {ours.end_events}"
    if plain.tasks != ours.tasks:
        for i, (a, b) in enumerate(zip(plain.tasks, ours.tasks, strict=False)):
            if a != b:
                return f"task #{i + 1}: plain {a!r}, engine {b!r}"
        return f"tasks run: plain {len(plain.tasks)}, engine {len(ours.tasks)}"
    if plain.data != ours.data:
        if isinstance(plain.data, dict) and isinstance(ours.data, dict):
            keys = sorted(set(plain.data) | set(ours.data))
            for key in keys:
                if plain.data.get(key, "<none>") != ours.data.get(key, "<none>"):
                    a, b = plain.data.get(key, "<none>"), ours.data.get(key, "<none>")
                    return f"data[{key!r}]: plain {a!r:.80}, engine {b!r:.80}"
        return "final data differ"
    return None


def compare(plain: Outcome, ours: Outcome) -> Verdict:
    def verdict(kind: str, detail: str = "") -> Verdict:
        return Verdict(kind, detail, plain, ours)

    if ours.crashed:
        return verdict("differs", f"engine crashed: {ours.error}")
    if ours.problems:
        return verdict("differs", f"engine state inconsistent: {ours.problems[0]}")
    plain_failed = plain.status in ("refused", "failed")
    ours_failed = ours.status in ("refused", "failed")
    if plain_failed and ours_failed:
        return verdict("both fail", f"plain: {_short(plain.error)} | engine: {_short(ours.error)}")
    if ours_failed and _is_sandbox(ours.error):
        return verdict("refused by sandbox", _short(ours.error))
    if plain_failed or ours_failed:
        plain_side = f"plain {plain.status}: {_short(plain.error)}"
        return verdict("differs", f"{plain_side} | engine {ours.status}: {_short(ours.error)}")
    if plain.status == "truncated" and ours.status == "stopped":
        return verdict("intended", f"truncated by SpiffWorkflow; engine: {_short(ours.error)}")
    difference = _first_difference(plain, ours)
    if difference is None and plain.status != ours.status:
        difference = f"plain {plain.status}, engine {ours.status}: {_short(ours.error)}"
    if difference is not None:
        return verdict("differs", difference)
    return verdict("same")


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def intended(case: Case) -> tuple[str, str] | None:
    for pattern, expected in INTENDED.items():
        if _matches(case, pattern):
            return expected
    return None


def acceptable(case: Case, verdict: Verdict) -> bool:
    """same / both fail, unless listed in INTENDED: then exactly the documented difference."""
    expected = intended(case)
    if expected is None:
        return verdict.kind in ("same", "both fail")
    return verdict.kind == expected[0] and expected[1] in verdict.detail


def run_case(
    case: Case,
    workdir: Path,
    scenario: Scenario | None = None,
    limits: Limits | None = None,
) -> Verdict:
    scenario = scenario or scenario_for(case)
    limits = limits or Limits()
    with redirect_stdout(io.StringIO()):  # corpus scripts print; the engine's print is silent
        plain = drive(PlainSide(case, limits), scenario, limits)
    ours = drive(EngineSide(case, workdir), scenario, limits)
    return compare(plain, ours)
