"""FEEL in decision tables made with the Camunda Modeler, Operaton or Flowable, where it means
something else (or nothing) in the Python SpiffWorkflow reads.

An input entry is a FEEL *simple unary test*. Most read the same in both languages (`"Fall"`,
`< 600`, `42`); these do not, and are rewritten with SpiffWorkflow's `?` (the input's value):

- `"Fall","Winter"` (any of them): `? == ("Fall") or ? == ("Winter")`;
- `[600..699]`, `]0..10[`, `(0..10)` (a range; `[` and `]` closed, `(`, `)` or brackets
  turned outward open): `600 <= ? <= 699`;
- `not("Summer")` (none of them): `not (? == ("Summer"))`;
- `true`, `false`, `null`: `? == True`, ...

Without this, `"a","b"` would compare the input with a tuple (never equal, silently) and
`true` would stop the case with a NameError when the rule runs. Output entries get the same
literals (`true` → `True`). Python written by our own authors (`? in ("a", "b")`) is left as
it is: none of the forms above is meaningful Python in an input entry.
"""

from __future__ import annotations

import re

_LITERALS = {"true": "True", "false": "False", "null": "None"}
_RANGE = re.compile(r"([\[\]()])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\]()])", re.DOTALL)
_NOT = re.compile(r"not\s*\((.*)\)", re.DOTALL)
_COMPARISON = ("<=", ">=", "<", ">", "!=", "==")


def input_entry(text: str | None) -> str | None:
    """The entry as SpiffWorkflow should read it (the same text when FEEL and Python agree)."""
    stripped = (text or "").strip()
    if stripped in ("", "-") or "?" in stripped:
        return text
    negated = _NOT.fullmatch(stripped)
    inner = negated.group(1).strip() if negated else stripped
    items = _top_level_items(inner)
    if items is None:
        return text
    tests = [_test(item) for item in items]
    if not negated and len(items) == 1 and (tests[0] is None or items[0].startswith(_COMPARISON)):
        return text  # one literal or comparison: the same in Python
    python = " or ".join(t or f"? == ({item})" for t, item in zip(tests, items, strict=True))
    return f"not ({python})" if negated else python


def output_entry(text: str | None) -> str | None:
    stripped = (text or "").strip()
    return _LITERALS.get(stripped, text)


def _test(item: str) -> str | None:
    """The Python test of one FEEL item, or None when the item means the same in Python."""
    if item in _LITERALS:
        return f"? == {_LITERALS[item]}"
    found = _RANGE.fullmatch(item)
    if found:
        opening, low, high, closing = found.groups()
        low_op = "<=" if opening == "[" else "<"
        high_op = "<=" if closing == "]" else "<"
        return f"{low} {low_op} ? {high_op} {high}"
    if item.startswith(_COMPARISON):
        return f"? {item}"
    return None


def _top_level_items(text: str) -> list[str] | None:
    """The comma-separated items outside quotes and brackets; None for an unbalanced text."""
    items: list[str] = []
    depth = 0
    quote = None
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth <= 0:
            items.append(text[start:i].strip())
            start = i + 1
        i += 1
    items.append(text[start:].strip())
    if quote or any(not item for item in items):
        return None
    return items
