"""Warnings about decision tables: SpiffWorkflow's UNIQUE hit policy takes the first match and
says nothing about overlapping rules or inputs no rule covers. We check what can be checked:
columns whose entries are all literals (or '-', any value)."""

from __future__ import annotations

import ast
import itertools
from typing import Any

ANY = object()
MAX_COMBINATIONS = 10_000


def _entry_value(text: str | None) -> Any:
    """The literal an input entry matches, ANY for '-' or empty, None if not a literal."""
    text = (text or "").strip()
    if text in ("", "-"):
        return ANY
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def _rule_values(rule: Any) -> list[Any] | None:
    values = []
    for entry in rule.inputEntries:
        lhs = [x for x in entry.lhs if x is not None] or [""]
        if len(lhs) != 1:
            return None
        value = _entry_value(lhs[0])
        if value is None:
            return None
        values.append(value)
    return values


def table_warnings(table: Any) -> list[str]:
    """Overlaps (under UNIQUE/first hit) and uncovered combinations of the literals used."""
    rules = [(rule, _rule_values(rule)) for rule in table.rules]
    checkable = [(rule, values) for rule, values in rules if values is not None]
    if len(checkable) != len(rules) or not rules:
        return []
    warnings = []
    unique = str(getattr(table.hit_policy, "value", table.hit_policy)).upper() in ("UNIQUE", "")
    if unique:
        for (a, va), (b, vb) in itertools.combinations(checkable, 2):
            if all(x is ANY or y is ANY or x == y for x, y in zip(va, vb, strict=True)):
                warnings.append(
                    f"rules {a.row_number} and {b.row_number} overlap: "
                    f"row {b.row_number} is never used where row {a.row_number} matches"
                )
    columns = [
        sorted({v[i] for _r, v in checkable if v[i] is not ANY}, key=repr)
        for i in range(len(table.inputs))
    ]
    combos = 1
    for col in columns:
        combos *= max(len(col), 1)
    if combos <= MAX_COMBINATIONS:
        for combo in itertools.product(*[col or [ANY] for col in columns]):
            covered = any(
                all(v is ANY or c is ANY or v == c for v, c in zip(values, combo, strict=True))
                for _r, values in checkable
            )
            if not covered:
                names = [i.label or i.name or i.expression for i in table.inputs]
                shown = ", ".join(f"{n}={c!r}" for n, c in zip(names, combo, strict=True))
                warnings.append(f"no rule matches {shown}")
    return warnings
