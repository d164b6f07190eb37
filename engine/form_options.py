"""Choices a form takes from the organisation rather than from its own file: a property with
`"x-options": "departments"` offers every department (code, name) as its `oneOf`, so a
department added on the organisation page can be chosen at once, and validation accepts
exactly the departments there are. The filled form is made once per change of the
organisation, not per request: validators and translations are cached by the form object.

Several server processes each read the organisation again after `MAX_AGE` seconds (a change
made in this process is seen at once)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

SOURCES = ("departments",)
MAX_AGE = 5.0  # seconds: how stale another process's change may be seen

Options = dict[str, list[dict[str, str]]]  # source -> [{"const": code, "title": name}]


def uses_options(schema: Any) -> bool:
    """Whether any property of the form (at any depth) takes its choices from the
    organisation."""
    if isinstance(schema, dict):
        return "x-options" in schema or any(uses_options(v) for v in schema.values())
    if isinstance(schema, list):
        return any(uses_options(v) for v in schema)
    return False


def fill(schema: Any, options: Mapping[str, list[dict[str, str]]]) -> Any:
    """A copy of `schema` whose `x-options` properties offer the current choices (a source
    with no choice keeps what the file wrote); parts without any are shared, not copied."""
    if isinstance(schema, dict):
        if not uses_options(schema):
            return schema
        filled = {k: fill(v, options) for k, v in schema.items()}
        choices = options.get(str(schema.get("x-options")))
        if choices:
            filled["oneOf"] = [dict(c) for c in choices]
            filled.pop("enum", None)
        return filled
    if isinstance(schema, list):
        return [fill(v, options) for v in schema] if uses_options(schema) else schema
    return schema


class OrganisationOptions:
    """The current choices, read through `load` at most every `max_age` seconds, and at
    once after `changed()`. `version` moves only when the choices really differ."""

    def __init__(self, load: Callable[[], Options], max_age: float = MAX_AGE) -> None:
        self._load = load
        self._max_age = max_age
        self._lock = threading.Lock()
        self._options: Options | None = None
        self._read_at = 0.0
        self.version = 0

    def changed(self) -> None:
        self._read_at = 0.0

    def current(self) -> tuple[int, Options]:
        with self._lock:
            if self._options is None or time.monotonic() - self._read_at > self._max_age:
                options = self._load()
                if options != self._options:
                    self._options = options
                    self.version += 1
                self._read_at = time.monotonic()
            return self.version, self._options
