"""Warnings about decision tables: SpiffWorkflow's UNIQUE hit policy takes the first match and
says nothing about overlapping rules or inputs no rule covers. We check what can be checked:
columns whose entries are all literals (or '-', any value). An input that is a field the
forms offer codes for (a `oneOf` of consts, an `enum`) must cover every one of those codes:
a category added to the forms without its rows would otherwise stop every case of it at the
decision; and a literal that is no such code (a typo) never matches."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Mapping
from typing import Any

from .wording import Wording, wording

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


def form_codes(forms: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Field name -> the codes a form lets people choose for it (every form together)."""
    codes: dict[str, list[Any]] = {}
    for schema in forms.values():
        for name, prop in (schema.get("properties") or {}).items():
            if not isinstance(prop, Mapping):
                continue
            found = [o.get("const") for o in prop.get("oneOf") or [] if isinstance(o, Mapping)]
            found += list(prop.get("enum") or [])
            for code in found:
                if code is not None and code not in codes.setdefault(name, []):
                    codes[name].append(code)
    return codes


def _input_field(table_input: Any) -> str | None:
    """The field an input reads, when its expression is just a field's name."""
    text = (getattr(table_input, "expression", None) or "").strip()
    return text if text.isidentifier() else None


def table_warnings(table: Any, codes: Mapping[str, list[Any]] | None = None) -> list[Wording]:
    """Overlaps (under UNIQUE/first hit) and uncovered combinations of the literals used and
    of the codes the forms allow (`codes`: field -> codes), and literals no form allows."""
    rules = [(rule, _rule_values(rule)) for rule in table.rules]
    checkable = [(rule, values) for rule, values in rules if values is not None]
    if len(checkable) != len(rules) or not rules:
        return []
    warnings: list[Wording] = []
    allowed = [(codes or {}).get(_input_field(i) or "") for i in table.inputs]
    names = [i.label or i.name or i.expression for i in table.inputs]
    for rule, values in checkable:
        for name, value, column in zip(names, values, allowed, strict=True):
            if column and value is not ANY and value not in column:
                warnings.append(
                    wording(
                        "rule %(rule)s: %(value)s is not one of the codes the forms allow for "
                        "%(input)s, so it never matches",
                        rule=str(rule.row_number),
                        value=repr(value),
                        input=str(name),
                    )
                )
    unique = str(getattr(table.hit_policy, "value", table.hit_policy)).upper() in ("UNIQUE", "")
    if unique:
        for (a, va), (b, vb) in itertools.combinations(checkable, 2):
            if all(x is ANY or y is ANY or x == y for x, y in zip(va, vb, strict=True)):
                warnings.append(
                    wording(
                        "rules %(first)s and %(second)s overlap: row %(second)s is never used "
                        "where row %(first)s matches",
                        first=str(a.row_number),
                        second=str(b.row_number),
                    )
                )
    columns = [
        sorted({v[i] for _r, v in checkable if v[i] is not ANY} | set(allowed[i] or []), key=repr)
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
                shown = ", ".join(f"{n}={c!r}" for n, c in zip(names, combo, strict=True))
                warnings.append(wording("no rule matches %(values)s", values=shown))
    return warnings
