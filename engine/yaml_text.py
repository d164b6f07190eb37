"""The YAML files of a deployment (calendar.yaml, translations/*.yaml) read one way, with
limits: process files are uploaded by administrators and will come through a browser, and a
1 KB file of nested aliases ("billion laughs") expands to gigabytes in PyYAML."""

from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 1_000_000  # a calendar or a translation table is a few KB
MAX_DEPTH = 20  # both are flat mappings; a list under a key is as deep as they go
MAX_NODES = 100_000


class _BoundedLoader(yaml.BaseLoader):
    """BaseLoader (every scalar a string) that refuses aliases and absurd nesting or size
    while it composes, before any node is expanded or constructed."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in process files", mark
            )
        self._nodes += 1
        if self._depth >= MAX_DEPTH or self._nodes > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, "nested too deeply or too many entries", mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_mapping(text: str, expected: str) -> dict[str, Any]:
    """A YAML mapping whose scalars all stay strings (so "是": yes stays a text and a bad
    date is reported with its entry); raises ValueError saying what was `expected`, or
    which limit the file breaks (size, aliases, depth)."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // 1000} KB")
    loader = _BoundedLoader(text)
    try:
        doc = loader.get_single_data() or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {str(exc)[:500]}") from None
    finally:
        loader.dispose()
    if not isinstance(doc, dict):
        raise ValueError(f"expected {expected}")
    return doc
