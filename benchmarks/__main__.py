"""Run the benchmarks: `make bench` (PostgreSQL too when HAZARDFLOW_BENCH_PG_URL is set).

B1 the lifecycle against plain SpiffWorkflow; B2 the sweep cost per timer, 1,000 vs 20,000 due;
B3 two `hazardflow worker` processes against one (PostgreSQL only); B4 the 考核 page and stats
API at 100,000 cases against 1,000 (generated databases kept in var/bench/). `--only B2` runs a
subset.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from . import lifecycle, stats, timers

BENCHES = ("B1", "B2", "B3", "B4")


def fresh_pg_schema(url: str, schema: str = "bench") -> str:
    """A clean schema for this run, so the figures never include earlier data."""
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def drop_pg_schemas(url: str, schemas: list[str]) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        for schema in dict.fromkeys(schemas):
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def _selected(values: list[str] | None) -> list[str]:
    if not values:
        return list(BENCHES)
    chosen = [v.strip().upper() for value in values for v in value.split(",") if v.strip()]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {BENCHES}")
    return [b for b in BENCHES if b in chosen]


def _sizes(value: str) -> tuple[int, int]:
    small, large = (int(v) for v in value.split(","))
    return small, large


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", metavar="B2[,B3]", help="run only these")
    parser.add_argument("--count", type=int, default=200, help="B1: lifecycles per side")
    parser.add_argument(
        "--b2-sizes", type=_sizes, default=(1_000, 20_000), help="B2: SMALL,LARGE timers due"
    )
    parser.add_argument("--b3-timers", type=int, default=3_000, help="B3: timers due")
    parser.add_argument(
        "--b4-sizes", type=_sizes, default=stats.SIZES, help="B4: SMALL,LARGE cases"
    )
    args = parser.parse_args()
    only = _selected(args.only)
    pg = os.environ.get("HAZARDFLOW_BENCH_PG_URL") or os.environ.get("HAZARDFLOW_TEST_PG_URL")

    def emit(lines: list[dict]) -> None:
        for line in lines:
            print(json.dumps(line, ensure_ascii=False), flush=True)

    if "B1" in only:
        emit(lifecycle.run(fresh_pg_schema(pg) if pg else None, args.count))
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:

        def sqlite(label: str) -> str:
            return f"sqlite:///{Path(tmp) / label}.db"

        def postgresql(label: str) -> str:
            schemas.append(f"bench_{label}")
            return fresh_pg_schema(pg, schemas[-1])

        if "B2" in only:
            targets: list[tuple[str, Callable[[str], str]]] = [("sqlite", sqlite)]
            if pg:
                targets.append(("postgresql", postgresql))
            emit(timers.run_b2(targets, args.b2_sizes))
        if "B3" in only:
            emit(timers.run_b3(postgresql if pg else None, args.b3_timers))
    if schemas:
        drop_pg_schemas(pg, schemas)
    if "B4" in only:
        emit(stats.run(args.b4_sizes, pg))


if __name__ == "__main__":
    main()
