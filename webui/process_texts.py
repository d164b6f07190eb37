"""The process files' texts in the reader's language.

Form titles, task and queue names and the BPMN element names are data in `processes/`, written
in Chinese; `processes/translations/<locale>.yaml` gives them in another language. The pages
pass every such text through `process_text` (a Jinja filter of the same name) and whole form
schemas through `localized_schema`, so an English reader sees English wherever the process
author provided it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import g
from flask_babel import get_locale

from engine import translate_schema

from .context import current_engine
from .schema_form import Field, build_fields, grid_groups

SOURCE_LANGUAGE = "zh"  # the language the process files are written in


def reader_language() -> str | None:
    """The reader's language when it is not the one the process files are written in."""
    locale = get_locale()
    language = locale.language if locale else SOURCE_LANGUAGE
    return None if language == SOURCE_LANGUAGE else language


def _table() -> dict[str, str]:
    language = reader_language()
    return current_engine().process_texts(language) if language else {}


def process_text(text: Any) -> Any:
    """One text of the process files, translated when there is a translation."""
    if not isinstance(text, str) or not text:
        return text
    return _table().get(text, text)


def localized_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    return translate_schema(schema, _table())


def localized_fields(
    schema: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    readonly: bool = False,
    grid_choices: Collection[str] | None = None,
) -> list[Field]:
    """The form's fields to render, with the titles in the reader's language and the
    organisation's grids as the choices of a grid field (only `grid_choices` when given);
    `readonly`: all of them shown, not asked for (a case's data)."""
    if "grids" not in g:  # a page may build several forms: read the organisation once
        g.grids = current_engine().grids()
    organisation = g.grids
    grids = [
        (grid["code"], f"{grid['name']} ({grid['code']})")
        for grid in organisation
        if grid_choices is None or grid["code"] in grid_choices
    ]
    leaders = [
        (grid["leader_group"], f"{grid['leader_name']} ({grid['name']})")
        for grid in organisation
        if grid["leader"]
    ]
    groups = grid_groups([dict(grid) for grid in organisation])
    if grid_choices is not None:  # the paths come from the whole tree, the choices do not
        groups = [
            (label, kept)
            for label, choices in groups
            if (kept := [choice for choice in choices if choice[0] in grid_choices])
        ]
    return build_fields(
        localized_schema(schema),
        values,
        errors,
        grids=grids,
        leaders=leaders,
        groups=groups,
        readonly=readonly,
    )
