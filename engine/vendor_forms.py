"""Forms written into BPMN files by other modelers, as JSON Schema forms of our contract.

The Camunda Modeler (and Operaton) write a task's fields as `camunda:formData` /
`camunda:formField`; Activiti and Flowable as `activiti:formProperty`. Both say a field's id,
label, type, choices and constraints: what a JSON Schema form says too, so such a task gets a
form of the task's id, rendered and validated like one written in `forms/`.

- `type`: `string`, `long`, `double`, `boolean`, `date`, `enum` (with its `value`s) become
  `string`, `integer`, `number`, `boolean`, a `string` of `format: date`, `oneOf` const/title;
- `label` (`name`) becomes the `title`, `defaultValue` (`default`) the `default`;
- the constraints `required`, `readonly`, `minlength`, `maxlength`, `min`, `max` (and a
  formProperty's `required="true"`, `writable="false"`) become `required`, `readOnly`,
  `minLength`, `maxLength`, `minimum`, `maximum`.

Anything else (a custom type, a Java validator, field properties, `datePattern`) is named in
a warning.
"""

from __future__ import annotations

from typing import Any

from .model_checks import Findings, local, shown, where
from .wording import wording

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "integer": {"type": "integer"},
    "int": {"type": "integer"},
    "short": {"type": "integer"},
    "double": {"type": "number"},
    "float": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}
_NUMBERS = {"min": "minimum", "max": "maximum", "minlength": "minLength", "maxlength": "maxLength"}


def form_of(element: Any, vendor: str, found: Findings) -> dict[str, Any] | None:
    """The JSON Schema form of an element's formData / formProperty fields, or None."""
    fields = [
        child
        for holder in _extensions(element)
        for child in ([holder] if local(holder) == "formProperty" else list(holder))
        if local(holder) in ("formData", "formProperty")
        and local(child) in ("formField", "formProperty")
    ]
    if not fields:
        return None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in fields:
        name = field.get("id")
        if not name:
            found.warn(
                where(element),
                wording(
                    "a %(vendor)s:%(element)s without an id is left out",
                    vendor=vendor,
                    element=local(field),
                ),
            )
            continue
        prop, is_required = _property(element, field, vendor, found)
        properties[name] = prop
        if is_required:
            required.append(name)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": element.get("name") or element.get("id") or "",
        "type": "object",
        "properties": properties,
    }
    if required:
        schema["required"] = required
    return schema


def _extensions(element: Any) -> list[Any]:
    holder = next((c for c in element if local(c) == "extensionElements"), None)
    return list(holder) if holder is not None else []


def _property(
    element: Any, field: Any, vendor: str, found: Findings
) -> tuple[dict[str, Any], bool]:
    named = f"{vendor}:{local(field)} '{shown(field.get('id'))}'"
    kind = (field.get("type") or "string").strip()
    prop = dict(_TYPES.get(kind, {"type": "string"}))
    values = [v for v in field if local(v) == "value"]
    if kind == "enum" or values:
        prop = {
            "type": "string",
            "oneOf": [
                {"const": v.get("id"), "title": v.get("name") or v.get("id")}
                for v in values
                if v.get("id")
            ],
        }
    elif kind not in _TYPES:
        found.warn(
            where(element),
            wording(
                "%(field)s: the type '%(type)s' is read as text", field=named, type=shown(kind)
            ),
        )
    prop["title"] = field.get("label") or field.get("name") or field.get("id")
    default = field.get("defaultValue", field.get("default"))
    if default is not None and "${" not in default and "#{" not in default:
        prop["default"] = _typed(default, prop)
    elif default is not None:
        found.warn(
            where(element),
            wording("%(field)s: an expression as default value is not read", field=named),
        )
    required = (field.get("required") or "").lower() == "true"
    if (field.get("writable") or "").lower() == "false":
        prop["readOnly"] = True
    for attribute in ("datePattern", "expression", "variable", "readable"):
        if field.get(attribute) is not None:
            found.warn(
                where(element),
                wording(
                    "%(field)s: '%(attribute)s' is not supported; ignored",
                    field=named,
                    attribute=attribute,
                ),
            )
    for child in field:
        kind_of_child = local(child)
        if kind_of_child == "validation":
            required = _constraints(element, child, prop, named, found) or required
        elif kind_of_child not in ("value", ""):
            found.warn(
                where(element),
                wording(
                    "%(field)s: %(vendor)s:%(element)s is not supported; ignored",
                    field=named,
                    vendor=vendor,
                    element=kind_of_child,
                ),
            )
    return prop, required


def _constraints(
    element: Any, validation: Any, prop: dict[str, Any], named: str, found: Findings
) -> bool:
    """Write a field's constraints into its schema; whether one says it is required."""
    required = False
    for constraint in validation:
        name = (constraint.get("name") or "").lower()
        config = constraint.get("config")
        if name == "required":
            required = True
        elif name == "readonly":
            prop["readOnly"] = True
        elif name in _NUMBERS and config is not None and _number(config) is not None:
            prop[_NUMBERS[name]] = _number(config)
        else:
            found.warn(
                where(element),
                wording(
                    "%(field)s: the constraint '%(constraint)s' is not supported; "
                    "ignored (write it in a form file, forms/<task id>.json)",
                    field=named,
                    constraint=shown(name),
                ),
            )
    return required


def _number(text: str) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def _typed(text: str, prop: dict[str, Any]) -> Any:
    if prop.get("type") == "boolean":
        return text.strip().lower() == "true"
    if prop.get("type") in ("integer", "number"):
        number = _number(text)
        return text if number is None else number
    return text
