"""Process files checked against the organisation they will run in (at validation through
the engine, which knows it): a lane whose role nobody holds leaves its tasks with no one to
work them, and a decision that routes to a department code there is no department for
gives a case to nobody. Warnings, not refusals: the organisation may be completed next."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from lxml import etree

from .definitions import CompiledProcess, SourceFile, parse_xml
from .errors import Problem
from .wording import wording


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def lane_warnings(compiled: dict[str, CompiledProcess], roles: set[str]) -> list[Problem]:
    """A lane (its name is the role its tasks go to) that no user's roles include."""
    found = []
    for process in compiled.values():
        lanes = {t.lane for t in process.human_tasks.values() if t.lane and not t.candidates}
        for lane in sorted(lanes - roles):
            found.append(
                Problem(
                    process.bpmn_file or "?",
                    lane,
                    wording(
                        "lane '%(lane)s' gives its tasks to the role '%(lane)s', which no user has",
                        lane=lane,
                    ),
                    "warning",
                )
            )
    return found


def _option_fields(compiled: dict[str, CompiledProcess]) -> set[str]:
    """Fields whose choices are the organisation's departments."""
    fields = set()
    for process in compiled.values():
        for schema in process.forms.values():
            for name, prop in (schema.get("properties") or {}).items():
                if isinstance(prop, dict) and prop.get("x-options") == "departments":
                    fields.add(name)
    return fields


def department_warnings(
    sources: Iterable[SourceFile], compiled: dict[str, CompiledProcess], departments: set[str]
) -> list[Problem]:
    """A decision rule whose output for a department field names no department."""
    fields = _option_fields(compiled)
    found: list[Problem] = []
    for src in sources:
        if src.kind != "dmn" or not fields:
            continue
        try:
            tree = parse_xml(src)
        except Exception:  # reported by the compiler already
            continue
        for table in tree.iter():
            if not isinstance(table.tag, str) or _local(table) != "decisionTable":
                continue
            outputs = [o.get("name") for o in table if _local(o) == "output"]
            for rule in (r for r in table if _local(r) == "rule"):
                entries = [e for e in rule if _local(e) == "outputEntry"]
                for name, entry in zip(outputs, entries, strict=False):
                    if name not in fields:
                        continue
                    text = "".join(t.text or "" for t in entry if _local(t) == "text").strip()
                    try:
                        value = ast.literal_eval(text)
                    except (ValueError, SyntaxError):
                        continue  # an expression: known only when it runs
                    if isinstance(value, str) and value not in departments:
                        found.append(
                            Problem(
                                src.name,
                                rule.get("id"),
                                wording(
                                    "routes to department '%(department)s', which the "
                                    "organisation does not have",
                                    department=value,
                                ),
                                "warning",
                            )
                        )
    return found
