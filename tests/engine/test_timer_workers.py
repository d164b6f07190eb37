"""Deadlines that enforce themselves: real `hazardflow worker` processes, crashes, downtime, and
a changed decision table, with the audit log as the witness of what fired and how often.

The worker tests use `tests/fixtures/timer_wait` (start -> one timeDate timer read from the start
data -> script -> end): starting it costs one short transaction, so hundreds of due timers are
made honestly through `Engine.start` in a few seconds. Workers run on the system clock, so those
timers are set to fire in the (real) past while the engine that starts them runs a day earlier.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.calendar import WorkingCalendar
from engine.clock import parse_iso
from engine.models import AuditEvent, Instance, Timer
from engine.org import SYSTEM
from tests import process_group
from tests.conftest import PROCESSES
from tests.helpers import accept, act, report, to_rectify

HAZARDFLOW = str(Path(sys.executable).with_name("hazardflow"))
TIMER_WAIT = Path(__file__).resolve().parent.parent / "fixtures" / "timer_wait"
FIRED_LINE = re.compile(r"fired (\d+) timer\(s\)")
CHINA_CALENDAR = WorkingCalendar()  # the engine's default calendar: weekends off


# --- a `hazardflow worker` process -------------------------------------------------------------


class Worker:
    """One `hazardflow worker` in its own process group; its log goes to a file."""

    def __init__(self, name: str, database_url: str, tmp_path: Path, interval: float = 0.5):
        self.name = name
        self.log = tmp_path / f"worker-{name}.log"
        self.args = [HAZARDFLOW, "worker", "--interval", str(interval)]
        self.env = {
            **os.environ,
            "HAZARDFLOW_DATABASE_URL": database_url,
            "HAZARDFLOW_DATA_DIR": str(tmp_path / "data"),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.args,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, an open transaction is cut off, like a power cut."""
        process_group.kill(self.process)

    def stop(self) -> None:
        process_group.stop(self.process)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def fired(self) -> int:
        """Timers this worker says it fired (one log line per sweep that fired any)."""
        return sum(int(n) for n in FIRED_LINE.findall(self.text()))


@pytest.fixture
def workers(database_url: str, tmp_path: Path):
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(name, database_url, tmp_path).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def pg_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "several workers on one database need PostgreSQL (FOR UPDATE SKIP LOCKED); "
            "set HAZARDFLOW_TEST_PG_URL to run this test"
        )


# --- helpers -----------------------------------------------------------------------------------


def _due_cases(make_engine, clock, count: int):
    """`count` started timer_wait cases whose one timer is due by the system clock."""
    engine = make_engine()
    engine.upgrade()
    engine.deploy([TIMER_WAIT])
    real_now = datetime.now(UTC)
    clock.set(real_now - timedelta(days=1))  # the cases were started yesterday...
    first = real_now - timedelta(hours=1)  # ...to fire an hour ago, one microsecond apart
    cases = [
        engine.start(
            "timer_wait", {"fire_at": (first + timedelta(microseconds=i)).isoformat()}, SYSTEM
        )
        for i in range(count)
    ]
    assert _timers_left(engine) == count
    return engine, cases


def _timers_left(engine) -> int:
    with engine.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Timer))


def _wait_for_no_timers(engine, workers: list[Worker], seconds: float = 60) -> float:
    started = time.monotonic()
    while _timers_left(engine):
        for worker in workers:
            assert worker.alive(), f"worker {worker.name} died:\n{worker.text()[-3000:]}"
        assert time.monotonic() - started < seconds, (
            f"{_timers_left(engine)} timers still waiting after {seconds} s"
        )
        time.sleep(0.05)
    return time.monotonic() - started


def _wait_for_logged(workers: list[Worker], count: int, seconds: float = 10) -> None:
    """The last commit comes a moment before the sweep logs its count: wait for the line."""
    started = time.monotonic()
    while sum(w.fired() for w in workers) < count and time.monotonic() - started < seconds:
        time.sleep(0.05)


def _assert_fired_exactly_once(engine, cases: list[int]) -> None:
    """The audit says each case's timer fired once; every case ran on to its end."""
    with engine.db.reading() as session:
        timer_events = dict(
            session.execute(
                select(AuditEvent.instance_id, func.count())
                .where(AuditEvent.action == "timer")
                .group_by(AuditEvent.instance_id)
            ).all()
        )
        ends = Counter(
            session.scalars(select(AuditEvent.instance_id).where(AuditEvent.action == "end"))
        )
        statuses = Counter(session.scalars(select(Instance.status)))
        stamped = session.scalars(select(Instance.data)).all()
    doubled = {case: n for case, n in timer_events.items() if n != 1}
    lost = sorted(set(cases) - set(timer_events))
    assert not doubled, f"timers fired more than once: {doubled}"
    assert not lost, f"{len(lost)} timers never fired: {lost[:20]}"
    assert set(timer_events) == set(cases)
    assert ends == dict.fromkeys(cases, 1)
    assert statuses == {"completed": len(cases)}
    assert all(parse_iso(d["fired_at"]) >= parse_iso(d["fire_at"]) for d in stamped)
    assert _timers_left(engine) == 0
    assert engine.verify_audit().ok


# --- 1. two workers share the work, each timer fires once -------------------------------------


@pytest.mark.slow
def test_two_workers_fire_500_due_timers_exactly_once(
    pg_only, make_engine, clock, workers, record_property
):
    engine, cases = _due_cases(make_engine, clock, 500)
    pair = [workers("a"), workers("b")]
    took = _wait_for_no_timers(engine, pair)
    _wait_for_logged(pair, len(cases))
    time.sleep(0.6)  # one more sweep each: a late double firing would show now
    for worker in pair:
        worker.stop()
    _assert_fired_exactly_once(engine, cases)
    split = {worker.name: worker.fired() for worker in pair}
    # What the workers say they fired adds up to what the audit holds: nothing counted twice.
    assert sum(split.values()) == len(cases), split
    record_property("worker_split", split)
    print(f"\n500 timers, two workers: split {split}, {took:.1f} s until none waited")


# --- 2. a worker killed mid-sweep loses and doubles nothing -----------------------------------


@pytest.mark.slow
def test_worker_killed_while_firing_loses_and_doubles_nothing(
    make_engine, clock, workers, record_property
):
    total = 300
    engine, cases = _due_cases(make_engine, clock, total)
    first = workers("first")
    started = time.monotonic()
    while _timers_left(engine) > total * 2 // 3:
        assert first.alive(), first.text()[-3000:]
        assert time.monotonic() - started < 60, "the worker fired too little in 60 s"
        time.sleep(0.005)
    first.kill()  # a third of the way through its sweep, most likely inside a transaction
    left = _timers_left(engine)
    assert 0 < left < total, f"not killed mid-way: {left} of {total} left"
    # the sweep it was in never finished: it did not get as far as logging its count
    assert first.fired() == 0, first.text()

    second = workers("second")
    _wait_for_no_timers(engine, [second])
    _wait_for_logged([second], left)
    time.sleep(0.6)
    second.stop()
    _assert_fired_exactly_once(engine, cases)
    # the new worker fired exactly what the killed one left: nothing redone, nothing skipped
    assert second.fired() == left
    record_property("killed_after", total - left)


# --- 3. three days down: on start, every due timer fires once, oldest first --------------------


def test_three_days_down_then_due_timers_fire_once_each_oldest_first(engine, clock):
    # Dispatched on a Wednesday, a 10-working-day deadline falls on a Wednesday and its
    # reminder (2 working days earlier) on the Monday: both within one long weekend outage.
    wednesday = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)  # 09:00 in China
    clock.set(wednesday)
    returned = report(engine)  # the first case reported, but sent back by the department...
    accept(engine, returned)
    act(engine, "dispatcher", returned, "dispatch", {"department": "yjj", "deadline_days": 10})
    clock.advance(minutes=10)
    act(engine, "dept_yjj", returned, "receive", {"decision": "return", "reason": "不归本局"})
    clock.advance(minutes=50)
    second = to_rectify(engine)
    clock.advance(hours=1)
    third = to_rectify(engine)
    clock.advance(hours=1)  # ...and dispatched again last: its deadline is the latest
    act(engine, "dispatcher", returned, "dispatch", {"department": "yjj", "deadline_days": 10})
    act(engine, "dept_yjj", returned, "receive", {"decision": "accept"})
    oldest_first = [second, third, returned]
    assert sorted(oldest_first) != oldest_first  # the order to check is not the id order

    planned = {(t["instance_id"], t["task_name"]): parse_iso(t["fire_at"]) for t in engine.timers()}
    assert set(planned) == {
        (case, name) for case in oldest_first for name in ("timer_remind", "timer_overdue")
    }
    last_sweep = min(planned.values()) - timedelta(minutes=1)
    clock.set(last_sweep)
    assert engine.fire_due_timers() == 0  # the last sweep before the outage: nothing due yet
    back = clock.advance(days=3)
    assert back > max(planned.values())  # every reminder and every deadline passed meanwhile

    assert engine.fire_due_timers() == 2 * len(oldest_first)  # on start: all of them, once
    assert engine.fire_due_timers() == 0  # and a second sweep finds nothing more

    with engine.db.reading() as session:
        fired = session.execute(
            select(AuditEvent.instance_id, AuditEvent.task_name, AuditEvent.at, AuditEvent.changes)
            .where(AuditEvent.action == "timer")
            .order_by(AuditEvent.id)
        ).all()
    # In the order they were written: the case due first went first, and in each case the
    # reminder before the deadline.
    assert [(case, name) for case, name, _at, _c in fired] == [
        (case, name) for case in oldest_first for name in ("timer_remind", "timer_overdue")
    ]
    for case, name, at, changes in fired:
        assert at == back  # recorded as of the sweep that caught up...
        assert parse_iso(changes["fire_at"][1]) == planned[(case, name)]  # ...for its own time
    # what waits now is each case's next escalation step, timed from the catch-up (the
    # escalation script ran "as of" the sweep: escalated_at = now()), not from the outage
    assert sorted(
        (t["instance_id"], t["task_name"], parse_iso(t["fire_at"])) for t in engine.timers()
    ) == sorted(
        (case, "timer_escalate", CHINA_CALENDAR.add_working_days(back, 3)) for case in oldest_first
    )
    assert engine.verify_audit().ok


# --- 4. a new deadline in dispatch.dmn: new cases use it, running cases keep theirs ------------


def test_changed_deadline_days_apply_to_new_cases_running_cases_keep_their_timers(
    engine, make_engine, clock, tmp_path
):
    def timers_of(eng, case):
        return {t["task_name"]: parse_iso(t["fire_at"]) for t in eng.instance(case)["timers"]}

    old_case = to_rectify(engine)  # Monday 09:00 (China): 10 working days, reminder 2 before
    old = engine.instance(old_case)
    old_deadline = parse_iso(old["data"]["deadline"])
    assert old["data"]["deadline_days"] == 10
    assert old_deadline == CHINA_CALENDAR.add_working_days(clock.now(), 10)
    old_timers = timers_of(engine, old_case)
    assert old_timers == {
        "timer_remind": CHINA_CALENDAR.add_working_days(old_deadline, -2),
        "timer_overdue": old_deadline,
    }
    old_due = old["open_tasks"][0]["due_at"]

    changed = tmp_path / "processes"
    shutil.copytree(PROCESSES, changed)
    dmn = changed / "dispatch.dmn"
    text = dmn.read_text(encoding="utf-8")
    edits = {  # hazardous chemicals, general grade: 10 -> 5 days, escalate after 3 -> 1 day
        '"rule_hazardous_chemicals_general_deadline_days"><text>10<': (
            '"rule_hazardous_chemicals_general_deadline_days"><text>5<'
        ),
        '"rule_hazardous_chemicals_general_escalate_after_days"><text>3<': (
            '"rule_hazardous_chemicals_general_escalate_after_days"><text>1<'
        ),
    }
    for before, after in edits.items():
        assert text.count(before) == 1
        text = text.replace(before, after)
    dmn.write_text(text, encoding="utf-8")
    assert engine.deploy([changed]).versions["hazard_handling"] == 2

    clock.advance(hours=1)
    new_case = to_rectify(engine)
    new = engine.instance(new_case)
    new_deadline = parse_iso(new["data"]["deadline"])
    assert (new["version"], new["data"]["deadline_days"]) == (2, 5)
    assert new_deadline == CHINA_CALENDAR.add_working_days(clock.now(), 5)
    assert timers_of(engine, new_case) == {
        "timer_remind": CHINA_CALENDAR.add_working_days(new_deadline, -2),
        "timer_overdue": new_deadline,
    }
    assert parse_iso(new["open_tasks"][0]["due_at"]) == new_deadline
    assert new_deadline < old_deadline

    # A restarted worker (nothing cached) sees the running case exactly as it was.
    fresh = make_engine()
    old_now = fresh.instance(old_case)
    assert old_now["version"] == 1 and old_now["data"]["deadline_days"] == 10
    assert parse_iso(old_now["data"]["deadline"]) == old_deadline
    assert timers_of(fresh, old_case) == old_timers
    assert old_now["open_tasks"][0]["due_at"] == old_due

    # The new case's deadline comes first: only its timers fire.
    clock.set(new_deadline + timedelta(minutes=1))
    assert fresh.fire_due_timers() == 2
    assert [e["task_name"] for e in fresh.history(new_case) if e["action"] == "timer"] == [
        "timer_remind",
        "timer_overdue",
    ]
    assert not [e for e in fresh.history(old_case) if e["action"] == "timer"]
    assert timers_of(fresh, old_case) == old_timers
    assert timers_of(fresh, new_case) == {
        "timer_escalate": CHINA_CALENDAR.add_working_days(clock.now(), 1)  # the new table's 1
    }

    # At the old deadline, the old case's own reminder and deadline fire, and its escalation
    # keeps the old table's 3 days while the new case's next step keeps 1.
    clock.set(old_deadline + timedelta(minutes=1))
    escalated = clock.now()
    assert fresh.fire_due_timers() == 3  # old: remind + overdue; new: one escalation step
    assert [e["task_name"] for e in fresh.history(old_case) if e["action"] == "timer"] == [
        "timer_remind",
        "timer_overdue",
    ]
    assert timers_of(fresh, old_case) == {
        "timer_escalate": CHINA_CALENDAR.add_working_days(escalated, 3)
    }
    assert timers_of(fresh, new_case) == {
        "timer_escalate": CHINA_CALENDAR.add_working_days(escalated, 1)
    }
    assert fresh.verify_audit().ok
