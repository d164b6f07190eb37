"""B4: the 考核 page and `GET /api/v1/stats` at 100,000 cases against 1,000 (target: at
most twice the time), on databases made by `hazardflow demo generate` (a year of cases
across the demo grids, categories and outcomes) with the clock fixed at the end of that
year, on SQLite and (with HAZARDFLOW_BENCH_PG_URL) PostgreSQL. The generated databases are
kept (SQLite files under var/bench/, PostgreSQL schemas `b4_<cases>_<inputs>`) and made
again only when the generator, the process files or the schema change: making 100,000 cases
takes minutes.

Each figure is the median of several requests through the app (Flask's test client: the
whole request, template and JSON included, without a network), one JSON line per figure."""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text

from engine import Engine, FrozenClock, load_config
from engine.config import PROJECT_ROOT

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # the generated year ends here
SIZES = (1_000, 100_000)
ROUNDS = 7
CACHE = PROJECT_ROOT / "var" / "bench"
MONTH = {"from": "2026-11-01", "to": "2026-11-30"}
YEAR = {"from": "2025-12-01", "to": "2026-11-30"}


def _inputs_hash() -> str:
    """What the generated database depends on: the generator, the processes, the schema."""
    digest = hashlib.sha256()
    sources = [
        PROJECT_ROOT / "engine" / "demo_cases.py",
        PROJECT_ROOT / "engine" / "case_parts.py",
        PROJECT_ROOT / "engine" / "models.py",
        *sorted((PROJECT_ROOT / "processes").rglob("*")),
        *sorted((PROJECT_ROOT / "engine" / "migrations" / "versions").glob("*.py")),
    ]
    for path in sources:
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _made(engine: Engine, cases: int) -> None:
    engine.upgrade()
    engine.load_demo()
    engine.deploy([PROJECT_ROOT / "processes"])
    started = time.perf_counter()
    engine.generate_demo_cases(cases, now=NOW, photos=False)  # the figures read no photo
    print(f"# made {cases} cases in {time.perf_counter() - started:.0f} s", flush=True)


def _engine(cases: int, pg_url: str | None = None) -> Engine:
    """An engine on the generated database of `cases` cases (made if missing): a SQLite file
    under var/bench/, or a schema of the PostgreSQL database `pg_url`."""
    if pg_url is not None:
        return _pg_engine(cases, pg_url)
    folder = CACHE / f"stats-{cases}-{_inputs_hash()}"
    database = folder / "hazardflow.db"
    config = load_config(database_url=f"sqlite:///{database}", data_dir=str(folder / "data"))
    if not database.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "hazardflow.db.partial"
        partial.unlink(missing_ok=True)
        making = load_config(database_url=f"sqlite:///{partial}", data_dir=str(folder / "data"))
        engine = Engine(making, clock=FrozenClock(NOW))
        _made(engine, cases)
        engine.close()
        partial.rename(database)
    return Engine(config, clock=FrozenClock(NOW))


def _pg_engine(cases: int, url: str) -> Engine:
    """The schema `b4_<cases>_<inputs>` holds a finished database once `b4_made` exists in it;
    schemas of other inputs are dropped."""
    schema = f"b4_{cases}_{_inputs_hash()}"
    admin = create_engine(url)
    with admin.begin() as conn:
        made = conn.execute(
            text(
                "SELECT 1 FROM information_schema.tables"
                " WHERE table_schema = :s AND table_name = 'b4_made'"
            ),
            {"s": schema},
        ).first()
        old = conn.execute(
            text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
            {"p": f"b4\\_{cases}\\_%"},
        ).scalars()
        for name in [o for o in old if o != schema or not made]:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        if not made:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    data = CACHE / schema
    config = load_config(
        database_url=f"{url}{sep}options=-csearch_path%3D{schema}", data_dir=str(data / "data")
    )
    engine = Engine(config, clock=FrozenClock(NOW))
    if not made:
        _made(engine, cases)
        with engine.db.sa.begin() as conn:
            conn.execute(text("CREATE TABLE b4_made (at TEXT)"))
    return engine


def _median_ms(call: Callable[[], Any]) -> float:
    call()  # warm: compiled processes, caches, the database's pages
    call()
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _timings(cases: int, pg_url: str | None = None) -> dict[str, float]:
    from webui import create_app

    engine = _engine(cases, pg_url)
    app = create_app(engine)
    app.config["WTF_CSRF_ENABLED"] = False
    browser = app.test_client()
    signed_in = browser.post("/login", data={"username": "dispatcher", "password": "hazard2026"})
    assert signed_in.status_code == 302, signed_in.status_code
    token = engine.new_token("dispatcher", label="bench")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def page(**args: str) -> Callable[[], Any]:
        def get() -> None:
            answer = browser.get("/stats", query_string=args)
            assert answer.status_code == 200, answer.status_code

        return get

    def stats_api(**args: str) -> Callable[[], Any]:
        def get() -> None:
            answer = api.get("/api/v1/stats", query_string=args, headers=headers)
            assert answer.status_code == 200, answer.status_code

        return get

    found = {
        "page, by department, one month": _median_ms(page(by="department", **MONTH)),
        "page, by grid, one month": _median_ms(page(by="grid", **MONTH)),
        "page, by department, one year": _median_ms(page(by="department", **YEAR)),
        "API, by department, one month": _median_ms(stats_api(by="department", **MONTH)),
        "API, by grid, one year": _median_ms(stats_api(by="grid", **YEAR)),
    }
    engine.close()
    return found


def run(sizes: tuple[int, int] = SIZES, pg_url: str | None = None) -> list[dict[str, Any]]:
    """SQLite; PostgreSQL too with `pg_url`."""
    found = []
    for database, url in [("sqlite", None), *([("postgresql", pg_url)] if pg_url else [])]:
        small, large = (_timings(n, url) for n in sizes)
        found += [
            {
                "bench": "B4",
                "figure": what,
                "database": database,
                "cases_small": sizes[0],
                "cases_large": sizes[1],
                "small_ms": round(small[what], 2),
                "large_ms": round(large[what], 2),
                "ratio": round(large[what] / small[what], 2),
                "target_ratio": 2.0,
            }
            for what in small
        ]
    return found
