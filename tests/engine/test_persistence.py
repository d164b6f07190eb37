"""State, races and restarts: what the database holds is what the engine continues from."""

from __future__ import annotations

import threading

from sqlalchemy import text

from engine import Conflict, EngineError
from tests.helpers import REPORT, accept, act, close_invalid, open_task, report


def test_work_continues_in_a_new_engine_on_the_same_database(engine, make_engine):
    case = report(engine)
    accept(engine, case)
    fresh = make_engine()  # another process: no cache, no live workflows
    assert fresh.instance(case)["data"]["department"] == "yjj"
    act(fresh, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 10})
    # and the first engine notices: its cached workflow is stale by version
    act(engine, "dept_yjj", case, "receive", {"decision": "accept"})
    assert [t["task_name"] for t in fresh.instance(case)["open_tasks"]] == ["rectify"]


def test_two_concurrent_completions_of_one_task_one_wins(engine, make_engine):
    case = report(engine)
    task = open_task(engine, "dispatcher", case, "classify")
    other = make_engine()
    data = {"outcome": "accept", "grade": "general", "category": REPORT["category"]}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(eng) -> None:
        barrier.wait()
        try:
            eng.complete(task["id"], eng.actor("dispatcher"), data)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        except EngineError as exc:  # pragma: no cover - shows what went wrong
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=complete, args=(e,)) for e in (engine, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    history = engine.history(case)
    assert [e["task_name"] for e in history if e["action"] == "complete"] == ["classify"]
    assert [t["task_name"] for t in engine.instance(case)["open_tasks"]] == ["dispatch"]
    assert engine.verify_audit().ok


def test_audit_verify_detects_an_edited_or_deleted_event(engine):
    case = report(engine)
    close_invalid(engine, case, "无此单位")
    assert engine.verify_audit().ok
    with engine.db.transaction() as session:
        session.execute(
            text("UPDATE audit_events SET actor = 'someone_else' WHERE action = 'complete'")
        )
    result = engine.verify_audit()
    assert not result.ok and "changed" in result.problems[0]


def test_audit_verify_detects_a_deleted_last_event(engine):
    case = report(engine)
    close_invalid(engine, case, "无此单位")
    with engine.db.transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE action = 'end'"))
    result = engine.verify_audit()
    assert not result.ok and "missing" in result.problems[0]
