"""The YAML files of a deployment (calendar.yaml, translations/*.yaml) read one way."""

from __future__ import annotations

from typing import Any

import yaml


def load_mapping(text: str, expected: str) -> dict[str, Any]:
    """A YAML mapping whose scalars all stay strings (so "是": yes stays a text and a bad
    date is reported with its entry); raises ValueError saying what was `expected`."""
    try:
        doc = yaml.load(text, Loader=yaml.BaseLoader) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"expected {expected}")
    return doc
