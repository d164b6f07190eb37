"""The layers keep their rules (docs/architecture.md): the web layer reaches the engine only
through the package `engine` (its one door, Engine, and the value types it exports), never
SpiffWorkflow or the database; the facade speaks no SpiffWorkflow; the engine knows no web
framework."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def offenders(folder: str, refused: tuple[str, ...]) -> dict[str, list[str]]:
    result = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = sorted(
            m
            for m in imported_modules(path)
            if any(m == r or m.startswith(r + ".") for r in refused)
        )
        if bad:
            result[str(path.relative_to(ROOT))] = bad
    return result


def test_the_web_layer_uses_only_the_engine_package_itself():
    engine_modules = tuple(
        f"engine.{p.stem}" for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__"
    ) + ("engine.demo", "engine.migrations")
    assert offenders("webui", engine_modules) == {}


def test_the_web_layer_touches_neither_spiffworkflow_nor_the_database():
    assert offenders("webui", ("SpiffWorkflow", "sqlalchemy", "alembic", "psycopg")) == {}


def test_the_facade_imports_no_spiffworkflow():
    assert not {m for m in imported_modules(ROOT / "engine/facade.py") if "SpiffWorkflow" in m}


def test_the_engine_knows_no_web_framework():
    assert offenders("engine", ("flask", "werkzeug", "jinja2", "flask_login", "flask_babel")) == {}
