"""B1: the hazard lifecycle persisted through the engine vs plain in-memory SpiffWorkflow.

Both sides run the same files in this process: start + classify, dispatch, receive, rectify,
verify. The engine side also reports SQL statements and commits per task completion, counted
with SQLAlchemy event listeners.
"""

from __future__ import annotations

import io
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event

from engine import Engine
from engine.calendar import WorkingCalendar
from engine.clock import FrozenClock
from engine.config import PROJECT_ROOT, load_config
from engine.tasks import TaskQuery

PROCESSES = PROJECT_ROOT / "processes"


def _png() -> bytes:
    image, out = Image.new("RGB", (64, 48), "green"), io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PHOTO_FIELDS = {"rectify_photos"}  # a step's photo field: a real image, sent with the step
PHOTO = _png()
REPORT = {
    "grid": "ap-d1-t1-v1",
    "unit": "仓库",
    "category": "hazardous_chemicals",
    "description": "混存",
}
STEPS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "dispatcher",
        "classify",
        {"outcome": "accept", "grade": "general", "category": "hazardous_chemicals"},
    ),
    ("dispatcher", "dispatch", {"department": "yjj", "deadline_days": 10}),
    ("dept_yjj", "receive", {"decision": "accept"}),
    (
        "dept_yjj",
        "rectify",
        {
            "action": "report",
            "measures": "分区",
            "responsible_person": "赵",
            "funds": 1,
            "rectify_photos": [],  # the photo sent with the step (engine_lifecycles)
            "completed_on": "2026-03-06",
        },
    ),
    ("dispatcher", "verify", {"passed": True}),
]


def plain_lifecycles(count: int) -> float:
    """Lifecycles per second in plain SpiffWorkflow, in memory, same files."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(PROCESSES / "hazard.bpmn")])
    parser.add_dmn_files([str(PROCESSES / "dispatch.dmn"), str(PROCESSES / "time_limits.dmn")])
    spec = parser.get_spec("hazard_handling")
    subprocess_specs = parser.get_subprocess_specs("hazard_handling")
    calendar = WorkingCalendar()
    script_engine = PythonScriptEngine(
        environment=TaskDataEnvironment(
            {
                "now": lambda: datetime.now(UTC),
                "add_working_days": calendar.add_working_days,
                "leader_of": lambda grid, up=0: f"leader:{grid}",
                "reporter": lambda: [],
                "iso": lambda dt: dt.isoformat(),
            }
        )
    )
    started = time.perf_counter()
    for _ in range(count):
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(REPORT)
        workflow.do_engine_steps()
        for _user, name, data in STEPS:
            task = next(
                t
                for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                if t.task_spec.bpmn_id == name
            )
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
        assert workflow.is_completed()
    return count / (time.perf_counter() - started)


class SqlCounter:
    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.commits = 0
        event.listen(engine.db.sa, "before_cursor_execute", self._statement)
        event.listen(engine.db.sa, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1


def engine_lifecycles(url: str, count: int, data_dir: Path) -> dict[str, float]:
    """Lifecycles per second through the persisted engine, and SQL per completion."""
    # The demo users' password hashes are setup, not what B1 measures: cheap Argon2 costs.
    cheap = {"password_time_cost": 1, "password_memory_cost": 1024, "password_parallelism": 1}
    config = load_config(database_url=url, data_dir=str(data_dir), **cheap)
    engine = Engine(config, clock=FrozenClock(datetime(2026, 3, 2, tzinfo=UTC)))
    engine.upgrade()
    engine.load_demo()
    engine.deploy([PROCESSES])
    actors = {name: engine.actor(name) for name in ("member_d1_t1_v1", "dispatcher", "dept_yjj")}
    counter = SqlCounter(engine)
    completions = statements = commits = 0
    started = time.perf_counter()
    for _ in range(count):
        case = engine.start("hazard_handling", REPORT, actors["member_d1_t1_v1"])
        for user, name, data in STEPS:
            # the queue read is a request of its own in real use, and so is checking a photo
            # as it is uploaded: not counted as completion cost (storing the photo is)
            task = engine.tasks_for(actors[user], TaskQuery(instance_id=case, task_name=name))[0]
            uploads = {f: engine.check_photo(PHOTO, f) for f in data if f in PHOTO_FIELDS}
            sent = {**data, **{f: [upload.id] for f, upload in uploads.items()}}
            before = (counter.statements, counter.commits)
            engine.complete(task["id"], actors[user], sent, None, list(uploads.values()))
            statements += counter.statements - before[0]
            commits += counter.commits - before[1]
            completions += 1
    elapsed = time.perf_counter() - started
    engine.close()
    return {
        "engine_per_s": count / elapsed,
        "statements_per_completion": statements / completions,
        "commits_per_completion": commits / completions,
    }


def run(pg_url: str | None, count: int = 200) -> list[dict[str, Any]]:
    plain_lifecycles(20)  # warm up imports and caches on both sides alike
    plain = plain_lifecycles(count)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if pg_url:
            targets.append(("postgresql", pg_url))
        for name, url in targets:
            figures = engine_lifecycles(url, count, Path(tmp) / f"data-{name}")
            results.append(
                {
                    "bench": "B1",
                    "db": name,
                    "lifecycles": count,
                    "plain_per_s": round(plain, 1),
                    "engine_per_s": round(figures["engine_per_s"], 1),
                    "ratio": round(figures["engine_per_s"] / plain, 3),
                    "statements_per_completion": round(figures["statements_per_completion"], 2),
                    "commits_per_completion": round(figures["commits_per_completion"], 2),
                }
            )
    return results
