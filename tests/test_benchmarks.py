"""`make bench` still runs: B1's lifecycle, once on each side (its figures are only worth
something if it can produce them; it broke unseen when uploads began to be checked)."""

from __future__ import annotations

from benchmarks import lifecycle


def test_the_lifecycle_benchmark_runs_on_both_sides(tmp_path):
    assert lifecycle.plain_lifecycles(1) > 0
    figures = lifecycle.engine_lifecycles(f"sqlite:///{tmp_path / 'b1.db'}", 1, tmp_path / "data")
    assert figures["commits_per_completion"] == 1.0
    assert 0 < figures["statements_per_completion"] < 40  # a constant few per step, none per row
