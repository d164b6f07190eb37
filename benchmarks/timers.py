"""B2 and B3: the timer sweeper at scale.

B2: the cost per timer of sweeping 1,000 and 20,000 timers due at once, in this process with
    `Engine.fire_due_timers(now)` called until nothing is due (each call is one sweep of at most
    `limit` instances, as the worker does). Linear means the per-timer cost at 20,000 is at most
    1.3 times the cost at 1,000. The live-workflow cache is emptied before the sweep: a worker
    coming back after downtime has nothing cached.
B3: timers fired per second by two `hazardflow worker` processes against one, on PostgreSQL
    (target: at least 1.6 times). The rate is counted from the first timer fired to the last,
    observed by polling the timers table, so process start-up is not part of it.

Both use `tests/fixtures/timer_wait` (start -> one timeDate timer from the start data ->
script -> end), so that a due timer is cheap to make honestly, through `Engine.start`.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from engine import Engine
from engine.clock import FrozenClock
from engine.config import PROJECT_ROOT, load_config
from engine.models import AuditEvent, Timer
from engine.org import SYSTEM
from tests import process_group

TIMER_WAIT = PROJECT_ROOT / "tests" / "fixtures" / "timer_wait"
HAZARDFLOW = str(Path(sys.executable).with_name("hazardflow"))
FIRED_LINE = re.compile(r"fired (\d+) timer\(s\)")
B2_TARGET = 1.3
B3_TARGET = 1.6


def _engine(url: str, clock: FrozenClock) -> Engine:
    engine = Engine(load_config(database_url=url), clock=clock)
    engine.upgrade()
    engine.deploy([TIMER_WAIT])
    return engine


def _start_due(engine: Engine, count: int, first_fire: datetime) -> float:
    """Start `count` timer_wait cases firing from `first_fire` on, 1 µs apart; seconds taken.

    SQLite has one writer, so one thread; on PostgreSQL the commit (an fsync) dominates and
    eight threads overlap their commits. Every case is a real `Engine.start`.
    """
    threads = 1 if engine.db.is_sqlite else 8

    def start(i: int) -> int:
        fire_at = (first_fire + timedelta(microseconds=i)).isoformat()
        return engine.start("timer_wait", {"fire_at": fire_at}, SYSTEM)

    started = time.perf_counter()
    if threads == 1:
        for i in range(count):
            start(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(start, range(count)))
    return time.perf_counter() - started


def _counts(engine: Engine) -> tuple[int, int, int]:
    """(timers waiting, timer audit events, cases with more than one timer event)."""
    with engine.db.reading() as session:
        waiting = session.scalar(select(func.count()).select_from(Timer))
        per_case = (
            select(AuditEvent.instance_id, func.count().label("n"))
            .where(AuditEvent.action == "timer")
            .group_by(AuditEvent.instance_id)
            .subquery()
        )
        fired = session.scalar(select(func.coalesce(func.sum(per_case.c.n), 0)))
        doubled = session.scalar(select(func.count()).where(per_case.c.n > 1))
    return waiting, fired, doubled


class _DueQueryTimer:
    """Time spent in the sweeper's "which instances are due" SELECT."""

    def __init__(self, engine: Engine) -> None:
        self.seconds = 0.0
        self._started: float | None = None
        event.listen(engine.db.sa, "before_cursor_execute", self._before)
        event.listen(engine.db.sa, "after_cursor_execute", self._after)

    def _before(self, _conn, _cursor, statement: str, *_: Any) -> None:
        is_due_query = statement.lstrip().startswith("SELECT timers.instance_id")
        self._started = time.perf_counter() if is_due_query else None

    def _after(self, *_: Any) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None


def sweep_cost(url: str, count: int) -> dict[str, float]:
    """Start `count` due cases, then sweep until none is due, as a restarted worker would."""
    t = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    engine = _engine(url, FrozenClock(t))
    setup = _start_due(engine, count, t + timedelta(hours=1))
    assert _counts(engine)[0] == count
    engine.live.clear()  # back after downtime: no live workflows in memory
    due_query = _DueQueryTimer(engine)
    now = t + timedelta(hours=2)
    per_sweep: list[float] = []  # ms per timer in each sweep
    fired = 0
    cpu = time.process_time()
    started = lap = time.perf_counter()
    while n := engine.fire_due_timers(now):
        fired += n
        per_sweep.append((time.perf_counter() - lap) / n * 1000)
        lap = time.perf_counter()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    waiting, audited, doubled = _counts(engine)
    engine.close()
    assert (fired, waiting, audited, doubled) == (count, 0, count, 0), (
        fired,
        waiting,
        audited,
        doubled,
    )
    return {
        "setup_s": setup,
        "sweep_s": elapsed,
        "per_timer_ms": elapsed / count * 1000,
        "cpu_per_timer_ms": cpu / count * 1000,
        "sweeps": len(per_sweep),
        "first_sweep_ms_per_timer": per_sweep[0],
        "last_sweep_ms_per_timer": per_sweep[-1],
        "due_query_ms": due_query.seconds * 1000,
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def run_b2(
    targets: list[tuple[str, Callable[[str], str]]],
    sizes: tuple[int, int] = (1_000, 20_000),
    small_runs: int = 3,
) -> list[dict[str, Any]]:
    """One line per database. `targets`: (name, make a fresh database URL from a label).

    The small size takes seconds, so one busy moment on the machine moves it a lot: it runs
    `small_runs` times (each on a fresh database) and the median counts. The large size runs
    once; its first and last sweeps show whether the cost grows as the backlog is worked off.
    `ratio` (wall clock) is the figure against the target; `cpu_ratio` is this process's CPU
    time, a check that is not moved by other load on a shared machine.
    """
    small, large = sizes
    results = []
    for name, fresh_url in targets:
        line: dict[str, Any] = {"bench": "B2", "db": name, "small": small, "large": large}
        runs = [sweep_cost(fresh_url(f"b2_{small}_{i}"), small) for i in range(small_runs)]
        small_ms = _median([r["per_timer_ms"] for r in runs])
        small_cpu = _median([r["cpu_per_timer_ms"] for r in runs])
        line["per_timer_ms_small_runs"] = [round(r["per_timer_ms"], 3) for r in runs]
        line["setup_s_small"] = round(_median([r["setup_s"] for r in runs]), 3)
        big = sweep_cost(fresh_url(f"b2_{large}"), large)
        for key, value in big.items():
            line[f"{key}_large"] = round(value, 3) if isinstance(value, float) else value
        ratio = big["per_timer_ms"] / small_ms
        line.update(
            {
                "per_timer_ms_small": round(small_ms, 3),
                "cpu_per_timer_ms_small": round(small_cpu, 3),
                # this process's CPU time only: on SQLite nearly all the work, and not moved
                # by other processes' load; on PostgreSQL the server's share is missing
                "cpu_ratio": round(big["cpu_per_timer_ms"] / small_cpu, 3),
                "ratio": round(ratio, 3),
                "target": B2_TARGET,
                "ok": ratio <= B2_TARGET,
            }
        )
        results.append(line)
    return results


# --- B3: worker processes ----------------------------------------------------------------------


class _Worker:
    def __init__(self, url: str, log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [HAZARDFLOW, "worker", "--interval", "0.5"],
                env={**os.environ, "HAZARDFLOW_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        process_group.stop(self.process)

    def fired(self) -> int:
        return sum(int(n) for n in FIRED_LINE.findall(self.log.read_text(errors="replace")))


def workers_rate(url: str, count: int, workers: int, logs: Path) -> dict[str, Any]:
    """Timers per second fired by `workers` worker processes on `count` due timers."""
    real_now = datetime.now(UTC)
    engine = _engine(url, FrozenClock(real_now - timedelta(days=1)))  # started yesterday...
    setup = _start_due(engine, count, real_now - timedelta(hours=1))  # ...due an hour ago
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    running = [_Worker(url, logs / f"b3-{workers}-{i}.log") for i in range(workers)]
    try:
        spawned = time.perf_counter()
        first = left_at_first = None
        deadline = spawned + 900
        while True:
            waiting = _counts(engine)[0]
            now = time.perf_counter()
            if first is None and waiting < count:
                first, left_at_first = now, waiting
            if waiting == 0:
                break
            if now > deadline or not all(w.alive() for w in running):
                raise RuntimeError(f"B3: {waiting} timers still waiting; see {logs}")
            time.sleep(0.01)
        end = time.perf_counter()
        settle = time.perf_counter() + 10  # the count is logged just after the last commit
        while sum(w.fired() for w in running) < count and time.perf_counter() < settle:
            time.sleep(0.05)
    finally:
        for worker in running:
            worker.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, once they are reaped
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    waiting, audited, doubled = _counts(engine)
    engine.close()
    assert (waiting, audited, doubled) == (0, count, 0), (waiting, audited, doubled)
    return {
        "setup_s": setup,
        "worker_cpu_s": cpu,
        "per_s": left_at_first / (end - first) if end > first else float(count),
        "wall_s": end - spawned,
        "split": [w.fired() for w in running],
    }


def run_b3(fresh_url: Callable[[str], str] | None, count: int = 3_000) -> list[dict[str, Any]]:
    if fresh_url is None:
        return [{"bench": "B3", "skipped": "no PostgreSQL URL"}]
    with tempfile.TemporaryDirectory() as tmp:
        one = workers_rate(fresh_url("b3_one"), count, 1, Path(tmp))
        two = workers_rate(fresh_url("b3_two"), count, 2, Path(tmp))
    speedup = two["per_s"] / one["per_s"]
    return [
        {
            "bench": "B3",
            "db": "postgresql",
            "timers": count,
            "one_worker_per_s": round(one["per_s"], 1),
            "two_workers_per_s": round(two["per_s"], 1),
            "speedup": round(speedup, 3),
            "target": B3_TARGET,
            "ok": speedup >= B3_TARGET,
            "two_workers_split": two["split"],
            "wall_s_one": round(one["wall_s"], 2),
            "wall_s_two": round(two["wall_s"], 2),
            # CPU time of the worker processes, start-up included (about 1 s each)
            "worker_cpu_s_one": round(one["worker_cpu_s"], 2),
            "worker_cpu_s_two": round(two["worker_cpu_s"], 2),
            "setup_s": round(one["setup_s"] + two["setup_s"], 2),
            "cpus": os.cpu_count(),
        }
    ]
