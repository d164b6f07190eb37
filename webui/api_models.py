"""The API's documented response models, generated from the engine's records
(`engine/records.py`), so that the OpenAPI document says what the engine really returns:
spectree wants a pydantic model per response; the records are TypedDicts."""

from __future__ import annotations

from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

import engine


def model_of(record: Any, name: str | None = None) -> type[BaseModel]:
    """A pydantic model with the fields of a TypedDict record (optional keys may be left out);
    nested records become models of their own in the document."""
    hints = get_type_hints(record)
    optional: frozenset[str] = getattr(record, "__optional_keys__", frozenset())
    fields: dict[str, Any] = {
        key: (hint, None if key in optional else ...) for key, hint in hints.items()
    }
    return create_model(
        name or record.__name__,
        __config__=ConfigDict(extra="forbid"),
        __doc__=record.__doc__,
        **fields,
    )


# Responses that are one record (lists of records are typed by the records themselves).
Task = model_of(engine.TaskRecord, "Task")
TaskDetail = model_of(engine.TaskDetail)
InstanceDetail = model_of(engine.CaseDetail, "InstanceDetail")
Inbox = model_of(engine.Inbox)
Done = model_of(engine.StepResult, "Done")
