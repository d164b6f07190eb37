"""The limits: SpiffWorkflow 3.2 walks its task tree only to depth 1,000.

A loop of about 500 rounds makes plain SpiffWorkflow report the workflow complete although it
never reached its end event. Our engine must finish such loops correctly or stop them with a
clear error, and never call a truncated run complete. The hazard process's own loops must be
safe at any count a real case reaches.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.clock import FrozenClock, parse_iso
from engine.config import PROJECT_ROOT
from engine.models import Instance, ProcessVersion
from engine.tasks import TaskQuery
from engine.workflow import restore, tree_depth
from tests.conformance.driver import (
    T0,
    Case,
    EngineSide,
    Limits,
    Outcome,
    PlainSide,
    Scenario,
    compare,
    drive,
    new_engine,
    run_case,
)
from tests.helpers import MAJOR_PLAN, RECTIFY_REPORT, act, open_task_names, to_rectify

PROCESSES = Path(__file__).resolve().parent / "processes"
LIMITS = Limits(max_actions=1_000, max_tasks=10_000, max_seconds=120)
# Two levels of the task tree per round: 497 rounds still fit under depth 1,000, 500 do not.
LAST_ROUND_THAT_FITS = 497


def own_case(name: str) -> Case:
    path = PROCESSES / f"{name}.bpmn"
    return Case(f"{path.name}:{name}", path.name, name, (path,), ())


def assert_finished_or_stopped(verdict, rounds: int, counter: str | None) -> None:
    plain, ours = verdict.plain, verdict.engine
    if rounds <= LAST_ROUND_THAT_FITS:
        assert verdict.kind == "same", verdict.line
        assert ours.status == "completed" and ours.end_events == ["finished"]
        if counter:
            assert ours.data[counter] == rounds
    else:
        # plain SpiffWorkflow calls the cut-short run complete; we stop it and say why
        assert plain.completed and plain.end_events == [] and plain.status == "truncated"
        assert verdict.kind == "intended", verdict.line
        assert ours.status == "stopped" and not ours.completed and ours.end_events == []
        assert "1,000" in ours.error and "cannot continue" in ours.error


@pytest.mark.parametrize("rounds", [100, 490, 600])
def test_a_script_loop_finishes_or_stops_with_a_clear_error(rounds, tmp_path):
    """All rounds run in one command (the start): a loop of script task and gateway."""
    verdict = run_case(own_case("script_loop"), tmp_path, Scenario(start={"limit": rounds}), LIMITS)
    assert_finished_or_stopped(verdict, rounds, "rounds")


def _review_loop_on_engine(case: Case, workdir: Path, rounds: int) -> Outcome:
    """One command per round, the workflow restored from the database for each."""
    side = EngineSide(case, workdir)
    outcome = Outcome(side.name)
    try:
        side.start({})
        for done in range(1, rounds + 1):
            side.engine.live.clear()
            query = TaskQuery(instance_id=side.instance_id)
            tasks = side.engine.tasks_for(side._worker(), query)
            if not tasks:
                break
            side.complete(tasks[0]["id"], {"again": done < rounds})
        side.outcome(outcome)
    finally:
        side.close()
    return outcome


@pytest.mark.timeout(900)  # 600 rounds, each restored from the database: minutes on a busy machine
@pytest.mark.parametrize("rounds", [100, 490, 600])
def test_a_review_loop_finishes_or_stops_with_a_clear_error(rounds, tmp_path):
    """A person's task in the loop: every round is a command, saved and restored."""
    case = own_case("task_loop")
    answers = [{"again": True}] * (rounds - 1) + [{"again": False}]
    scenario = Scenario(tasks={"review": answers})
    plain = drive(PlainSide(case, LIMITS), scenario, LIMITS)
    ours = _review_loop_on_engine(case, tmp_path, rounds)
    assert_finished_or_stopped(compare(plain, ours), rounds, None)


# --- the hazard process's own loops ------------------------------------------------------------

GRID_LEVELS = 4  # the demo grid: village, town, district, city


@pytest.fixture
def hazard(tmp_path):
    clock = FrozenClock(T0)
    engine = new_engine(tmp_path, clock)
    engine.load_demo()
    engine.deploy([PROJECT_ROOT / "processes"])
    yield engine, clock
    engine.close()


def _fire_until_quiet(engine, clock, case) -> int:
    """Let time pass until the case waits for no timer: escalates to the top leader."""
    fired = 0
    while timers := engine.instance(case)["timers"]:
        clock.set(max(clock.now(), min(parse_iso(t["fire_at"]) for t in timers)))
        engine.live.clear()
        now_fired = engine.fire_due_timers()
        assert now_fired, f"a due timer of case {case} did not fire"
        fired += now_fired
    return fired


def _deepest(engine, case) -> int:
    with engine.db.reading() as session:
        row = session.get(Instance, case)
        version = session.get(ProcessVersion, row.process_version_id)
        compiled = engine.compiled.of_version(session, version)
        workflow = restore(row, compiled, engine.runtime.script_engine)
    tasks = [*workflow.tasks.values()]
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return max(tree_depth(t) for t in tasks)


REWORK_ROUNDS = 20


def test_hazard_rework_and_escalation_loops_finish(hazard):
    """20 rounds of rework, each one overdue and escalated to the top of the grid, then
    archived: far beyond what a real case goes through, and still well inside the limit."""
    engine, clock = hazard
    case = to_rectify(engine, grade="major")
    rectified = {**RECTIFY_REPORT, "plan": MAJOR_PLAN}
    for _ in range(REWORK_ROUNDS):
        assert _fire_until_quiet(engine, clock, case) >= GRID_LEVELS - 1
        supervisors = [
            t for t in engine.instance(case)["open_tasks"] if t["task_name"] == "supervise"
        ]
        assert len(supervisors) == GRID_LEVELS
        engine.live.clear()
        act(engine, "dept_yjj", case, "rectify", rectified)
        engine.live.clear()
        act(engine, "dispatcher", case, "verify", {"passed": False, "verify_opinion": "未整改到位"})
        assert "rectify" in open_task_names(engine, case)
    _fire_until_quiet(engine, clock, case)
    engine.live.clear()
    act(engine, "dept_yjj", case, "rectify", rectified)
    engine.live.clear()
    act(engine, "dispatcher", case, "verify", {"passed": True})

    done = engine.instance(case)
    assert done["status"] == "completed" and done["end_event"] == "end_archived"
    assert done["data"]["rework_count"] == REWORK_ROUNDS
    escalations = [e for e in done["history"] if e["task_name"] == "timer_escalate"]
    assert len(escalations) == (REWORK_ROUNDS + 1) * (GRID_LEVELS - 1)
    assert done["open_tasks"] == [] and done["timers"] == []
    assert engine.verify_audit().ok
    # ~25 levels of SpiffWorkflow's task tree per escalated round: room for ~35 such rounds
    # Escalation grows each round's own subprocess tree; what accumulates is the ~6 levels a
    # rework (or return, or extension) round adds to the top: room for ~160 such rounds.
    assert _deepest(engine, case) < 12 + 8 * (REWORK_ROUNDS + 1) + 30


@pytest.mark.skipif(
    not os.environ.get("HAZARDFLOW_CONFORMANCE_SLOW"),
    reason="about a minute: set HAZARDFLOW_CONFORMANCE_SLOW=1",
)
def test_hazard_rework_past_the_ceiling_stops_with_a_clear_error(hazard):
    """No real case reworks 165 times; if one did, it stops and says why, never 'completed'."""
    engine, _clock = hazard
    case = to_rectify(engine)
    rounds, state = 0, engine.instance(case)
    while state["status"] == "running" and rounds < 400:
        act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
        act(engine, "dispatcher", case, "verify", {"passed": False, "verify_opinion": "返工"})
        rounds, state = rounds + 1, engine.instance(case)
    assert state["status"] == "error" and state["end_event"] is None
    assert "cannot continue" in state["error"]
    assert 150 < rounds < 200  # measured: the 165th rework round is the first that does not fit
