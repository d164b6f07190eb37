"""Two dispatchers claim one task at the same moment, from two engines on one database (as
two server workers would): exactly one wins, the other is told who has it, the history
shows one claim."""

from __future__ import annotations

import threading

import pytest

from engine import EngineError, TaskClaimed
from tests.helpers import open_task, report

ROUNDS = 25


@pytest.mark.slow
def test_of_two_simultaneous_claims_exactly_one_wins(engine, make_engine):
    second = make_engine()  # another worker process's engine on the same database
    people = [(engine, engine.actor("dispatcher")), (second, second.actor("dispatcher2"))]
    for _ in range(ROUNDS):
        case = report(engine)
        task = open_task(engine, "dispatcher", case, "classify")
        barrier = threading.Barrier(2)
        outcomes: dict[str, object] = {}
        threads = [
            threading.Thread(target=_claim, args=(*person, task["id"], barrier, outcomes))
            for person in people
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, outcomes
        loser = next(o for o in outcomes.values() if o != "won")
        assert isinstance(loser, TaskClaimed) and loser.assignee == winners[0]
        claims = [e for e in engine.history(case) if e["action"] == "claim"]
        assert [e["actor"] for e in claims] == winners
        assert open_task(engine, winners[0], case, "classify")["assignee"] == winners[0]


def _claim(worker, actor, task_id: str, barrier: threading.Barrier, outcomes: dict) -> None:
    barrier.wait()  # both at once
    try:
        worker.claim(task_id, actor)
        outcomes[actor.username] = "won"
    except EngineError as exc:
        outcomes[actor.username] = exc
