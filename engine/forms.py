"""Form submissions checked against a task's JSON Schema, with messages naming the field.

Two documents are validated. What the person may write is checked against the form: the
form's own fields, the writable ones from the submission and the read-only ones from the case,
so that a form saying `"additionalProperties": false` ("these fields only", as many authors
write it) is not broken by the case's other fields. The rules that read case data (`allOf`,
`anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`, `dependentRequired`) are
checked against the case data overlaid with the submitted writable fields, so that they may
test values of the case (e.g. the grade) shown read-only on the form. Writable fields come
only from the submission: a value left from an earlier round never satisfies `required`.

A field the person may not write is refused when it is sent with a new value, and accepted
(and left as it is) when it is sent back unchanged, as an API client sends back the task it
was given by `GET /tasks/{id}`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry

from .errors import FieldError, FormInvalid

_FORMATS = FormatChecker()
# The compiled forms have their $refs inlined (engine/form_refs.py); an empty registry makes
# sure that a submission never makes the validator fetch a schema from the network.
_OFFLINE = Registry()


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    # Schemas come from the definition cache and never change: build each validator once.
    key = id(schema)
    cached = _VALIDATORS.get(key)
    if cached is None or cached[0] is not schema:
        validator = Draft202012Validator(schema, registry=_OFFLINE, format_checker=_FORMATS)
        cached = _VALIDATORS[key] = (schema, validator)
    return cached[1]


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}
# The keywords of a form's top level that may read the case beyond the form's own fields.
CASE_RULES = (
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
)


def _parts(schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """The form without its case rules, and its case rules alone (None: it has none); made
    once per schema, as the validators are."""
    key = id(schema)
    cached = _PARTS.get(key)
    if cached is None or cached[0] is not schema:
        rules = {k: v for k, v in schema.items() if k in CASE_RULES}
        own = {k: v for k, v in schema.items() if k not in CASE_RULES}
        cached = _PARTS[key] = (schema, own, rules or None)
    return cached[1], cached[2]


_PARTS: dict[int, tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any] | None]] = {}


def writable_fields(schema: Mapping[str, Any]) -> set[str]:
    props = schema.get("properties") or {}
    return {name for name, prop in props.items() if not (prop or {}).get("readOnly")}


def _title(schema: Mapping[str, Any], name: str) -> str:
    return ((schema.get("properties") or {}).get(name) or {}).get("title") or name


def _reason(error: ValidationError, title: str) -> FieldError:
    """The error as a code with its title and limit, and in Chinese for API clients."""
    kind, value = error.validator, error.validator_value
    if kind in ("enum", "const", "oneOf"):
        kind = "choice"
    elif kind == "format" and value == "date":
        kind = "date"
    messages = {
        "required": f"请填写「{title}」",
        "type": f"「{title}」的格式不正确",
        "choice": f"「{title}」的取值无效",
        "minimum": f"「{title}」不能小于 {value}",
        "exclusiveMinimum": f"「{title}」必须大于 {value}",
        "maximum": f"「{title}」不能大于 {value}",
        "minLength": f"「{title}」至少 {value} 个字",
        "maxLength": f"「{title}」最多 {value} 个字",
        "minItems": f"「{title}」至少 {value} 项",
        "maxItems": f"「{title}」最多 {value} 项",
        "date": f"「{title}」应为日期 (YYYY-MM-DD) 格式",
        "format": f"「{title}」应为{value}格式",
        "pattern": f"「{title}」的格式不正确",
    }
    if kind not in messages:
        return FieldError("other", f"「{title}」: {error.message}", {"title": title})
    limit = value if isinstance(value, int | float | str) else None
    return FieldError(kind, messages[kind], {"title": title, "limit": limit})


def _property_at(schema: Mapping[str, Any], path: list[str]) -> Mapping[str, Any]:
    """The schema of the property at `path` (dotted parts), or {} when the form has none."""
    prop: Mapping[str, Any] = schema
    for part in path:
        prop = (prop.get("properties") or {}).get(part) or {}
    return prop


def _refusals(schema: Mapping[str, Any], error: ValidationError) -> list[tuple[str, FieldError]]:
    """(field, reason) for one validation error: a `required` error names every missing field
    (not only the first), and a missing object with required parts (the 五到位 plan) names
    each of its parts too, so that a person sees everything to fill in at once."""
    path = [str(p) for p in error.absolute_path]
    if error.validator != "required":
        prop = _property_at(schema, path)
        title = prop.get("title") or (path[-1] if path else "")
        return [(".".join(path) or "_form", _reason(error, title))]
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    names: list[str] = list(error.validator_value)  # type: ignore[arg-type]
    found = []
    for name in (n for n in names if n not in instance):
        prop = _property_at(schema, [*path, name])
        found.append((".".join([*path, name]), _missing(prop, name)))
        if prop.get("type") == "object":
            for part in prop.get("required") or []:
                inner = (prop.get("properties") or {}).get(part) or {}
                found.append((".".join([*path, name, part]), _missing(inner, part)))
    return found


def _missing(prop: Mapping[str, Any], name: str) -> FieldError:
    title = prop.get("title") or name
    return FieldError("required", f"请填写「{title}」", {"title": title, "limit": None})


# What anyone may send as form data: plain JSON, shallow and small enough that no step, no
# serializer and no page ever chokes on it (a 400-deep list once made a case unreadable).
MAX_DEPTH = 16
MAX_NODES = 5_000
MAX_TEXT = 20_000


def plain_data_problems(submitted: Mapping[str, Any]) -> dict[str, FieldError]:
    """Field -> why its value is not plain, bounded JSON data: too deep, too large, a number
    that is not finite (NaN), or not a JSON type at all. Walked without recursion."""
    problems: dict[str, FieldError] = {}
    for name, value in submitted.items():
        stack: list[tuple[Any, int]] = [(value, 1)]
        nodes = 0
        while stack and name not in problems:
            item, depth = stack.pop()
            nodes += 1
            if depth > MAX_DEPTH or nodes > MAX_NODES:
                problems[name] = FieldError("too_large", f"「{name}」的数据层级或数量过多")
            elif isinstance(item, float) and not math.isfinite(item):
                problems[name] = FieldError("type", f"「{name}」的格式不正确", {"title": name})
            elif isinstance(item, str) and len(item) > MAX_TEXT:
                problems[name] = FieldError("too_large", f"「{name}」的内容过长")
            elif isinstance(item, dict):
                if not all(isinstance(key, str) for key in item):
                    problems[name] = FieldError("type", f"「{name}」的格式不正确", {"title": name})
                stack.extend((child, depth + 1) for child in item.values())
            elif isinstance(item, list):
                stack.extend((child, depth + 1) for child in item)
            elif not isinstance(item, str | int | float | bool | type(None)):
                problems[name] = FieldError("type", f"「{name}」的格式不正确", {"title": name})
    return problems


def _unchanged(value: Any, name: str, *known: Mapping[str, Any] | None) -> bool:
    """Whether a field is sent as the case has it: as the task's data or the case data
    shown (compared as JSON, as a client got them)."""
    try:
        sent = json.loads(json.dumps(value, default=str))
        return any(
            name in data and sent == json.loads(json.dumps(data[name], default=str))
            for data in known
            if data is not None
        )
    except (TypeError, ValueError):
        return False


def validate_submission(
    schema: Mapping[str, Any] | None,
    case_data: Mapping[str, Any],
    submitted: Mapping[str, Any],
    evaluate: Callable[[str, Mapping[str, Any]], Any],
    shown: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the accepted fields, or raise FormInvalid with one message per field.
    `shown`: the case data the person was given with the task (`GET /tasks/{id}`)."""
    refused = plain_data_problems(submitted)
    if refused:  # before anything walks the data: the validator recurses, so may others
        raise FormInvalid("表单有误，请按提示修改 (the form has errors)", refused)
    if schema is None:
        return dict(submitted)
    writable = writable_fields(schema)
    declared = schema.get("properties") or {}
    fields: dict[str, FieldError] = {}
    for name, value in submitted.items():
        if name in writable or _unchanged(value, name, case_data, shown):
            continue
        title = _title(schema, name)
        text = (
            f"「{title}」为只读，不能修改" if name in declared else f"「{title}」不能在此表单中填写"
        )
        fields[name] = FieldError("readonly", text, {"title": title})
    accepted = {k: v for k, v in submitted.items() if k in writable}
    document = {k: v for k, v in case_data.items() if k not in writable}
    document.update(accepted)
    own, rules = _parts(schema)
    written = {k: v for k, v in document.items() if k in declared}
    checks = [(own, written)] + ([(rules, document)] if rules else [])
    for part, instance in checks:
        for error in _validator(part).iter_errors(instance):
            for name, reason in _refusals(schema, error):
                fields.setdefault(name, reason)
    if not fields:
        # Every declared field is a name in the check, None when not given.
        namespace = dict.fromkeys((schema.get("properties") or {}), None)
        namespace.update(document)
        for check in schema.get("x-checks") or []:
            if evaluate(check["invalid_when"], namespace):
                message = check["message"]
                fields.setdefault(check.get("field") or "_form", FieldError("check", message))
    if fields:
        raise FormInvalid("表单有误，请按提示修改 (the form has errors)", fields)
    return accepted
