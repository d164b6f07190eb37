"""What the public sees of a case through its lookup code: where it stands and the fields the
start form declares in `x-public-status`; and the photos of the report's public photo fields.
Read side only."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from . import cases
from .definitions import CompiledProcess
from .deployments import CompiledById
from .records import PublicStatus


def status(session: Session, instance_id: int, compiled_by_id: CompiledById) -> PublicStatus:
    """The case's public status; NotFound for no such case."""
    case = cases.get(session, instance_id)
    compiled = compiled_by_id(session, case.process_version_id)
    stage = cases.one_summary(session, instance_id, compiled_by_id).get("stage", [])
    data = case.data or {}
    properties = compiled.case_properties()
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    shown: dict[str, Any] = {}
    for name, title in compiled.public_status:
        value = data.get(name)
        if name not in properties or value in (None, "", [], {}):
            continue
        if not _applies(compiled, name, data):
            continue
        prop = copy.deepcopy(properties[name])
        prop.pop("readOnly", None)
        prop.pop("description", None)  # written for whoever fills the form in, not the public
        if title:
            prop["title"] = title
        schema["properties"][name] = prop
        shown[name] = value
    return {
        "id": case.id,
        "number": case.number or "",
        "status": case.status,
        "stage": stage,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "completed_at": case.completed_at.isoformat() if case.completed_at else None,
        "schema": schema,
        "data": shown,
        "photos": public_photos(compiled, data),
    }


def public_photos(compiled: CompiledProcess, data: dict[str, Any]) -> list[str]:
    """The photo ids in the case data under the photo fields the public form asks for."""
    start = compiled.form(compiled.start_form) or {}
    props = start.get("properties") or {}
    found: list[str] = []
    for name in compiled.public_fields:
        if (props.get(name, {}).get("x-ui") or {}).get("widget") != "photos":
            continue
        value = data.get(name)
        if isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str))
    return list(dict.fromkeys(found))


def _applies(compiled: CompiledProcess, name: str, data: dict[str, Any]) -> bool:
    """Whether the case data meets the condition under which the process asks for the field:
    a field a form's if/then rules require only under an `if` (the reason for an invalid or
    duplicate report) is shown only while one of those `if`s holds; any other field always."""
    conditions: list[dict[str, Any]] = []
    keys = [compiled.start_form] + [t.form_key for t in compiled.human_tasks.values()]
    for key in dict.fromkeys(k for k in keys if k):
        form = compiled.form(key) or {}
        prop = (form.get("properties") or {}).get(name)
        if prop is None or prop.get("readOnly"):
            continue
        if name in (form.get("required") or []):
            return True
        for rule in [form, *(form.get("allOf") or [])]:
            condition, then = rule.get("if"), rule.get("then")
            asked = isinstance(then, dict) and name in (then.get("required") or [])
            if isinstance(condition, dict) and asked:
                conditions.append(condition)
    return not conditions or any(Draft202012Validator(c).is_valid(data) for c in conditions)
