"""Findings the web pages say in their reader's language.

The engine words what it finds in a process file in English. `wording(template, **parts)` keeps
the template and its parts apart: the template is a message id of the web catalogs (with
`%(name)s` placeholders; `make translations` extracts it from the engine's code), a part is a
name or value quoted as it is, or a wording itself. A page looks the template up in its
catalog and fills in the parts (webui/problem_texts.py); `str()` is the English, which the
CLI, the API and the logs show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias, Union

Part: TypeAlias = Union[str, int, "Wording"]


@dataclass(frozen=True)
class Wording:
    template: str
    parts: tuple[tuple[str, Part], ...] = ()

    def __str__(self) -> str:
        if not self.parts:
            return self.template
        return self.template % {name: str(part) for name, part in self.parts}

    def record(self) -> WordingRecord:
        return {
            "template": self.template,
            "parts": {
                name: part.record() if isinstance(part, Wording) else part
                for name, part in self.parts
            },
        }


WordingRecord: TypeAlias = Mapping[str, object]  # {"template": str, "parts": {name: part}}
Text: TypeAlias = str | Wording  # what a finding says: plain (SpiffWorkflow's) or worded


def wording(template: str, **parts: Part) -> Wording:
    """`template` in English with `%(name)s` for each part; a literal message id, so that the
    catalogs find it."""
    return Wording(template, tuple(parts.items()))
