"""Commands run at the same moment, as two server workers on one database would run them, and
the bookkeeping of what came of them (the figures of docs/reliability.md)."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import EngineError

FIGURES = Path(__file__).resolve().parents[2] / "test-output" / "reliability"


def rounds(quick: int, soak_variable: str, soak: int, size: str) -> int:
    """How many rounds a test runs: `quick` in `make test`, `soak` (or the environment's
    `soak_variable`) in `make soak`."""
    return int(os.environ.get(soak_variable, soak)) if size == "soak" else quick


@dataclass
class Outcome:
    """What one command came to: its result, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def won(self) -> bool:
        return self.error is None

    def refused_as(self, *kinds: type[EngineError]) -> bool:
        return isinstance(self.error, kinds)


def at_once(*commands: Callable[[], Any]) -> list[Outcome]:
    """Run the commands in threads of their own, released together by a barrier; what each
    returned or raised, in the order given. An error that is not the engine's own (a driver's
    OperationalError, IntegrityError, a deadlock) is what a server answers 500 for: it is kept
    here too, for the test to name."""
    barrier = threading.Barrier(len(commands))
    outcomes = [Outcome() for _ in commands]

    def run(command: Callable[[], Any], outcome: Outcome) -> None:
        barrier.wait()
        try:
            outcome.value = command()
        except BaseException as exc:  # everything, so that the test sees what leaked
            outcome.error = exc

    threads = [
        threading.Thread(target=run, args=pair) for pair in zip(commands, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def leaked(outcomes: list[Outcome]) -> list[BaseException]:
    """Errors that are not a refusal of the engine's (each would be a 500)."""
    return [
        o.error for o in outcomes if o.error is not None and not isinstance(o.error, EngineError)
    ]


@dataclass
class Tally:
    """Counts of one family of attempts, written to test-output/reliability/<name>.json."""

    name: str
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] += n

    def write(self, **extra: Any) -> dict[str, Any]:
        FIGURES.mkdir(parents=True, exist_ok=True)
        figures = {"name": self.name, **dict(sorted(self.counts.items())), **extra}
        (FIGURES / f"{self.name}.json").write_text(json.dumps(figures, indent=2) + "\n")
        return figures
