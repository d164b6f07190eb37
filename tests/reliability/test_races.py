"""Two commands on one task (or one case, or one audit chain) at the same moment, from two
engines on one database, as two server workers would run them: exactly one wins, the other
is told why in the engine's own words (TaskClaimed, TaskDone, Conflict: a 403 or a 409),
never with a database error (an OperationalError, IntegrityError or deadlock would be a 500).

`make test` runs a few rounds of each; `make soak` runs RACE_ROUNDS (default 1,000) of each,
on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from engine import Conflict, TaskClaimed, TaskDone, parse_iso
from tests.conftest import T0
from tests.helpers import (
    RECTIFY_REPORT,
    REPORT,
    complete_with_photos,
    open_task,
    open_task_names,
    report,
    to_rectify,
)
from tests.reliability.races import Tally, at_once, leaked, rounds

pytestmark = pytest.mark.slow
SIZES = [
    pytest.param("quick", id="quick"),
    pytest.param("soak", id="soak", marks=[pytest.mark.soak, pytest.mark.timeout(7200)]),
]
CLASSIFY = {"outcome": "accept", "grade": "general", "category": REPORT["category"]}


def _rounds(size: str) -> int:
    return rounds(10, "RACE_ROUNDS", 1000, size)


def _database(engine) -> str:
    return "sqlite" if engine.is_sqlite else "postgresql"


def _one_winner(outcomes, tally: Tally, case: int) -> tuple[int, int]:
    """Indexes of the winner and the loser; fails on two winners, none, or a leaked error."""
    assert not leaked(outcomes), f"case {case}: {leaked(outcomes)!r}"
    winners = [i for i, o in enumerate(outcomes) if o.won]
    assert len(winners) == 1, f"case {case}: {outcomes}"
    tally.add("tried")
    tally.add("one winner")
    return winners[0], 1 - winners[0]


@pytest.mark.parametrize("size", SIZES)
def test_double_completion_one_wins(engine, make_engine, size):
    """Two dispatchers complete one classify task at once: one 200, one 409."""
    second = make_engine()
    tally = Tally(f"races-double-completion-{_database(engine)}-{size}")
    for _ in range(_rounds(size)):
        case = report(engine)
        task = open_task(engine, "dispatcher", case, "classify")["id"]
        outcomes = at_once(
            partial(engine.complete, task, engine.actor("dispatcher"), CLASSIFY),
            partial(second.complete, task, second.actor("dispatcher2"), CLASSIFY),
        )
        _, loser = _one_winner(outcomes, tally, case)
        assert outcomes[loser].refused_as(Conflict), outcomes[loser].error
        tally.add(type(outcomes[loser].error).__name__)
        completions = [e for e in engine.history(case) if e["action"] == "complete"]
        assert len(completions) == 1
        assert open_task_names(engine, case) == ["dispatch"]
    assert engine.verify_audit().ok
    tally.write()


@pytest.mark.parametrize("size", SIZES)
def test_of_two_simultaneous_claims_exactly_one_wins(engine, make_engine, size):
    """Two dispatchers claim one task at once: one wins, the other is told who has it, the
    history shows one claim."""
    second = make_engine()
    people = [(engine, "dispatcher"), (second, "dispatcher2")]
    tally = Tally(f"races-claim-claim-{_database(engine)}-{size}")
    for _ in range(_rounds(size)):
        case = report(engine)
        task = open_task(engine, "dispatcher", case, "classify")["id"]
        outcomes = at_once(*[partial(e.claim, task, e.actor(name)) for e, name in people])
        winner, loser = _one_winner(outcomes, tally, case)
        holder = people[winner][1]
        error = outcomes[loser].error
        assert isinstance(error, TaskClaimed) and error.assignee == holder, error
        tally.add("TaskClaimed")
        claims = [e["actor"] for e in engine.history(case) if e["action"] == "claim"]
        assert claims == [holder]
        assert open_task(engine, holder, case, "classify")["assignee"] == holder
    assert engine.verify_audit().ok
    tally.write()


@pytest.mark.parametrize("size", SIZES)
def test_claim_against_completion_one_wins(engine, make_engine, size):
    """dispatcher2 claims the task dispatcher completes at that moment: either the claim
    wins and the completion is told who has the task (403), or the completion wins and the
    claim is told it is done (409). Never both, never a deadlock."""
    second = make_engine()
    tally = Tally(f"races-claim-completion-{_database(engine)}-{size}")
    for _ in range(_rounds(size)):
        case = report(engine)
        task = open_task(engine, "dispatcher", case, "classify")["id"]
        outcomes = at_once(
            partial(engine.complete, task, engine.actor("dispatcher"), CLASSIFY),
            partial(second.claim, task, second.actor("dispatcher2")),
        )
        winner, loser = _one_winner(outcomes, tally, case)
        history = [(e["action"], e["actor"]) for e in engine.history(case)]
        if winner == 0:  # the completion
            assert outcomes[1].refused_as(TaskDone), outcomes[1].error
            assert ("claim", "dispatcher2") not in history
            assert open_task_names(engine, case) == ["dispatch"]
            tally.add("completion first")
        else:
            error = outcomes[0].error
            assert isinstance(error, TaskClaimed) and error.assignee == "dispatcher2", error
            assert not [a for a, _ in history if a == "complete"]
            assert open_task(engine, "dispatcher2", case, "classify")["assignee"] == "dispatcher2"
            tally.add("claim first")
        tally.add(type(outcomes[loser].error).__name__)
    assert engine.verify_audit().ok
    tally.write()


@pytest.mark.parametrize("size", SIZES)
def test_draft_against_completion_one_wins(engine, make_engine, size):
    """dispatcher2 saves a draft of the classify form while dispatcher completes it: the
    draft is kept (and goes with the task) or refused as done (409), never a 500."""
    second = make_engine()
    tally = Tally(f"races-draft-completion-{_database(engine)}-{size}")
    for _ in range(_rounds(size)):
        case = report(engine)
        task = open_task(engine, "dispatcher", case, "classify")["id"]
        outcomes = at_once(
            partial(engine.complete, task, engine.actor("dispatcher"), CLASSIFY),
            partial(second.save_draft, task, second.actor("dispatcher2"), {"grade": "major"}),
        )
        assert not leaked(outcomes), f"case {case}: {leaked(outcomes)!r}"
        assert outcomes[0].won, f"case {case}: {outcomes}"
        tally.add("tried")
        if outcomes[1].won:
            tally.add("draft first")
        else:
            assert outcomes[1].refused_as(TaskDone), outcomes[1].error
            tally.add("completion first")
            tally.add("TaskDone")
        assert second.draft(task, second.actor("dispatcher2")) is None  # gone with the task
        assert open_task_names(engine, case) == ["dispatch"]
    tally.write()


@pytest.mark.parametrize("size", SIZES)
def test_timer_against_completion_no_error(engine, make_engine, clock, caplog, size):
    """The rectification deadline's timers fire (a sweep in another worker) while the
    department reports the rectification on the same case: the person gets no error, the
    sweep none either, and the case stands where the report put it, whichever went first."""
    sweeper = make_engine()
    tally = Tally(f"races-timer-completion-{_database(engine)}-{size}")
    caplog.set_level(logging.ERROR, logger="engine")
    rng = random.Random(_rounds(size))
    for _ in range(_rounds(size)):
        clock.set(T0)
        case = to_rectify(engine)
        deadline = parse_iso(engine.instance(case)["data"]["deadline"])
        task = open_task(engine, "dept_yjj", case, "rectify")["id"]
        # reported at the deadline: the verification's own deadline is days after the sweep
        clock.set(deadline)
        # the sweep's skip-locked claim loses to a completion that starts with it: in half
        # the rounds the person is a few milliseconds later, so that both orders happen
        late = rng.choice([0.0, rng.uniform(0.0, 0.03)])
        outcomes = at_once(
            partial(
                _after,
                late,
                complete_with_photos,
                engine,
                task,
                engine.actor("dept_yjj"),
                RECTIFY_REPORT,
            ),
            partial(sweeper.fire_due_timers, deadline + timedelta(minutes=1)),
        )
        assert not leaked(outcomes), f"case {case}: {leaked(outcomes)!r}"
        assert all(o.won for o in outcomes), f"case {case}: {outcomes}"
        assert not caplog.records, f"case {case}: the sweep logged {caplog.records}"
        tally.add("tried")
        timer_events = [e for e in engine.history(case) if e["action"] == "timer"]
        tally.add("timer first" if timer_events else "completion first")
        assert open_task_names(engine, case) == ["verify"]  # no supervision left open
        left = {t["task_name"] for t in engine.instance(case)["timers"]}
        assert not left & {"timer_remind", "timer_overdue", "timer_escalate"}
        # archive it, so that the next rounds' sweeps have only their own case to fire
        verify = open_task(engine, "dispatcher", case, "verify")["id"]
        engine.complete(verify, engine.actor("dispatcher"), {"passed": True}, None)
        tally.add("no user-visible error")
    assert engine.verify_audit().ok
    tally.write()


def _after(seconds: float, command: Callable[..., Any], *args: Any) -> Any:
    time.sleep(seconds)
    return command(*args)


@pytest.mark.parametrize("size", SIZES)
def test_two_appends_to_one_audit_chain(engine, make_engine, size):
    """Two API tokens made for one user at once (each is an event on the chain `user:<name>`,
    whose head is a row of its own): both are made and the chain stays one line."""
    second = make_engine()
    tally = Tally(f"races-audit-chain-{_database(engine)}-{size}")
    for n in range(_rounds(size)):
        username = "dispatcher"  # a chain with a head already, every other round
        if n % 2 == 0:  # a new chain: both appends would create its head row
            username = f"racer{n}"
            engine.add_user(username, roles=["grid_member"], password="x")
        outcomes = at_once(
            partial(engine.new_token, username, label="a"),
            partial(second.new_token, username, label="b"),
        )
        assert not leaked(outcomes), f"round {n}: {leaked(outcomes)!r}"
        assert all(o.won for o in outcomes), f"round {n}: {outcomes}"
        tally.add("tried")
        tally.add("both appended")
    checked = engine.verify_audit()
    assert checked.ok, checked.problems
    tally.write()
