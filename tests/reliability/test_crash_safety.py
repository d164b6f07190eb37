"""Crash safety: the real server (and, on PostgreSQL, a separate timer worker) SIGKILLed at
random moments while a client drives hazard lifecycles over HTTP, each report through the web
form with a photo, and cases whose timers fire meanwhile. Afterwards every step the client
got an answer for is in the database, every case moved on to its end (none is stuck), every
timer fired exactly once, every stored photo's file holds its bytes, no answer was a 5xx,
and `hazardflow audit verify` passes.

`make test` runs 6 lifecycles (2 kills) per database; `make soak` runs SOAK_LIFECYCLES (default
200)."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from engine.attachments import photo_path
from tests.conftest import PROCESSES
from tests.reliability.crash import Client, Killer, Worker, wait_for
from tests.reliability.races import Tally, rounds
from tests.web.conftest import Server

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
pytestmark = pytest.mark.slow
SIZES = [
    pytest.param("quick", id="quick"),
    pytest.param("soak", id="soak", marks=[pytest.mark.soak, pytest.mark.timeout(7200)]),
]
USERS = ["dispatcher", *(f"dept_{d}" for d in ("yjj", "zjj", "jtj", "scjgj", "xf", "ajb"))]


@pytest.mark.parametrize("size", SIZES)
def test_sigkill_at_random_loses_no_acknowledged_step(
    engine, app, database_url, tmp_path, size, record_property
):
    engine.deploy([PROCESSES, FIXTURES / "timer_wait"])
    database = "sqlite" if engine.is_sqlite else "postgresql"
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 32)))
    rng = random.Random(seed)
    record_property("seed", seed)
    lifecycles = rounds(6, "SOAK_LIFECYCLES", 200, size)
    every = 3  # a kill lands at a random moment within every third lifecycle
    # the embedded setup sweeps timers in the web process; with PostgreSQL a worker does
    sweep_in_web = engine.is_sqlite
    config = tmp_path / "config.yaml"
    config.write_text(
        f"timers:\n  sweep_in_web: {str(sweep_in_web).lower()}\n  sweep_interval_seconds: 0.5\n",
        "utf-8",
    )
    env = {"HAZARDFLOW_CONFIG": str(config)}
    serve = () if engine.is_sqlite else ("--workers", "2")
    server = Server(database_url, tmp_path / "data", *serve, **env)
    worker = None if sweep_in_web else Worker({**server.env})
    client = Client(server, {name: engine.new_token(name) for name in USERS}, rng)
    killer = Killer(server, worker, rng)
    server.start()
    if worker:
        worker.start()
    try:
        client.sign_in()
        killer.start()
        cases = []
        for n in range(lifecycles):
            if n % every == 1:
                killer.trigger(within=0.5)
            cases.append(client.lifecycle())
        killer.stop()
        assert killer.failure is None, f"seed {seed}: {killer.failure!r}"
        # what was left for the timers after the last kill fires now
        wait_for(
            lambda: not [t for t in engine.timers() if t["instance_id"] in client.timer_cases],
            90,
            f"seed {seed}: timers of the drill fire",
        )
    finally:
        if killer.is_alive():
            killer.stop()
        server.stop()
        if worker:
            worker.stop()

    # every acknowledged step is there, once
    history = {case: engine.history(case) for case in {ack.case for ack in client.acks}}
    for ack in client.acks:
        events = history[ack.case]
        if ack.step == "start":
            assert events[0]["action"] == "start", f"seed {seed}: case {ack.case} lost its start"
        else:
            done = [e for e in events if e["action"] == "complete" and e["task_id"] == ack.task_id]
            assert len(done) == 1, f"seed {seed}: case {ack.case}: {ack.step} {len(done)} times"
    # every case reached its end: none is stuck
    assert killer.rounds == (lifecycles + every - 2) // every
    every_case = engine.instances(limit=100_000)
    stuck = [c["id"] for c in every_case if c["status"] != "completed"]
    assert not stuck, f"seed {seed}: cases not at their end: {stuck}"
    for case in cases:
        assert engine.instance(case)["end_event"] == "end_archived"
    for case in (c["id"] for c in every_case if c["process_id"] == "timer_wait"):
        fired = [e for e in engine.history(case) if e["action"] == "timer"]
        assert len(fired) == 1, f"seed {seed}: case {case}: its timer fired {len(fired)} times"
    # every report holds its photo (acknowledged or not), its file byte for byte
    reports = [c["id"] for c in every_case if c["process_id"] == "hazard_handling"]
    assert len(reports) == lifecycles
    held = set()
    for case in reports:
        photos = engine.instance(case)["data"]["photos"]
        assert len(photos) == 1, f"seed {seed}: case {case} holds photos {photos}"
        content = photo_path(engine.photo_folder, photos[0]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == photos[0], f"seed {seed}: case {case}"
        held.update(photos)
    assert {ack.photo for ack in client.acks if ack.photo} <= held
    verified = engine.verify_audit()  # what `hazardflow audit verify` runs
    assert verified.ok, f"seed {seed}: {verified.problems}"
    figures = Tally(f"crash-{database}-{size}")
    figures.counts.update(client.counts)
    figures.counts.update({f"{k} kills": n for k, n in killer.kills.items()})
    figures.write(
        seed=seed,
        cases=len(every_case),
        acknowledged_steps=len(client.acks),
        timer_cases=len(client.timer_cases),
        server_errors=0,
        audit_events=verified.events,
        audit_chains=verified.chains,
    )
