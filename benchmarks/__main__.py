"""Run the benchmarks: `make bench` (PostgreSQL too when HAZARDFLOW_BENCH_PG_URL is set)."""

from __future__ import annotations

import argparse
import json
import os

from sqlalchemy import create_engine, text

from . import lifecycle


def fresh_pg_schema(url: str) -> str:
    """A clean schema for this run, so the figures never include earlier data."""
    schema = "bench"
    with create_engine(url).begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200, help="lifecycles per side")
    args = parser.parse_args()
    pg = os.environ.get("HAZARDFLOW_BENCH_PG_URL") or os.environ.get("HAZARDFLOW_TEST_PG_URL")
    for line in lifecycle.run(fresh_pg_schema(pg) if pg else None, args.count):
        print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
