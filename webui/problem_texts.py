"""What the engine found in process files, in the reader's language: a finding the engine
worded (engine/wording.py) is looked up in the catalogs part by part; one it did not (the
words of SpiffWorkflow or of an XML parser) is shown as it came."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext


def worded(record: Mapping[str, Any]) -> str:
    """A wording record ({"template", "parts"}) in the reader's language."""
    parts = {
        name: worded(part) if isinstance(part, Mapping) else part
        for name, part in (record.get("parts") or {}).items()
    }
    return gettext(record["template"], **parts)


def problem_text(problem: Mapping[str, Any]) -> str:
    """A problem record's message in the reader's language."""
    wording = problem.get("wording")
    return worded(wording) if wording else str(problem["message"])
