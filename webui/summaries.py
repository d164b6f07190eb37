"""A case as a list shows it, from the fields its process declares in `x-summary`: the first
is its headline (the unit), a long text its gist (the description), the others short marks
(grid, category, grade, 挂牌督办), each by its title and in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g

from engine import CaseSummary

from .context import current_engine
from .process_texts import localized_fields
from .schema_form import Field

GIST_LENGTH = 60


@dataclass
class Summary:
    headline: str = ""
    gist: str = ""
    marks: list[Field] = field(default_factory=list)


def _schemas() -> dict[str, dict]:
    if "summary_schemas" not in g:  # one read of the processes per request
        g.summary_schemas = {
            p["process_id"]: p["summary_schema"] for p in current_engine().processes()
        }
    schemas: dict[str, dict] = g.summary_schemas
    return schemas


def summarise(case: CaseSummary) -> Summary:
    schema = _schemas().get(case["process_id"]) or {}
    fields = [
        f
        for f in localized_fields(schema, case["summary"], readonly=True)
        if f.value not in (None, "", [], {}, False)
    ]
    if not fields:
        return Summary()
    result = Summary(headline=fields[0].display)
    for f in fields[1:]:
        if f.kind == "textarea" and not result.gist:
            text = f.display
            result.gist = text if len(text) <= GIST_LENGTH else text[:GIST_LENGTH] + "…"
        else:
            result.marks.append(f)
    return result


def summarise_all(cases: dict[int, CaseSummary]) -> dict[int, Summary]:
    return {case_id: summarise(case) for case_id, case in cases.items()}
