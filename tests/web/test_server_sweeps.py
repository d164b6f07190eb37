"""`make run` alone keeps deadlines: the web process sweeps due timers by itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import parse_iso
from tests.web.conftest import Server

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

pytestmark = pytest.mark.slow


def test_the_web_process_fires_a_due_timer_with_no_other_command(engine, database_url, tmp_path):
    engine.deploy([FIXTURES / "timer_wait"])
    config = tmp_path / "config.yaml"  # the shipped defaults, with a fast sweep for the test
    config.write_text("timers:\n  sweep_in_web: true\n  sweep_interval_seconds: 0.5\n", "utf-8")
    server = Server(database_url, tmp_path / "data", HAZARDFLOW_CONFIG=str(config))
    server.start()
    try:
        fire_at = datetime.now(UTC) + timedelta(seconds=2)
        case = engine.start(
            "timer_wait", {"fire_at": fire_at.isoformat()}, engine.actor("dispatcher")
        )
        assert engine.instance(case)["status"] == "running"
        deadline = time.monotonic() + 30
        while engine.instance(case)["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        done = engine.instance(case)
        assert done["status"] == "completed", done
        assert parse_iso(done["data"]["fired_at"]) >= fire_at  # not before it was due
        assert [e["action"] for e in done["history"]].count("timer") == 1
    finally:
        server.stop()
