"""One form renderer for every task: JSON Schema in, fields out; form posts back to JSON.

The schema (a process file) says the fields, their titles, enums with titles, which are
read-only, and widget hints (`x-ui`). Values typed by the user are parsed to the schema's
types where they parse; what does not parse is passed on as typed, so that validation in the
engine reports it beside the field and the form shows it again unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict

GridGroup = tuple[str, list[tuple[str, str, str]]]
CHOICES_SHOWN = "__shown"  # suffix of the marker sent with a field of checkboxes


def grid_groups(grids: list[dict[str, Any]]) -> list[GridGroup]:
    """The organisation's grids (code, name, parent) as the groups of a choice: each grid
    under the path of the grids above it ("东城区 › 城关街道"), depth first, so that a reader
    finds a village under its town; a single top grid (the city) is left out of the paths.
    Each choice carries the text a search matches: its path, name and code."""
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    codes = {g["code"] for g in grids}
    for grid in grids:
        parent = grid.get("parent") if grid.get("parent") in codes else None
        by_parent.setdefault(parent, []).append(grid)
    roots = by_parent.get(None, [])
    groups: list[GridGroup] = []

    def walk(siblings: list[dict[str, Any]], path: list[str]) -> None:
        label = " › ".join(path)
        choices = [
            (g["code"], g["name"], " ".join([*path, g["name"], g["code"]])) for g in siblings
        ]
        groups.append((label, choices))
        for grid in siblings:
            children = by_parent.get(grid["code"])
            if children:
                shown = path if len(roots) == 1 and grid in roots else [*path, grid["name"]]
                walk(children, shown)

    if roots:
        walk(roots, [])
    return groups


@dataclass
class Field:
    name: str  # dotted for nested objects: plan.measures
    title: str
    kind: str  # text textarea select radio checkboxes boolean integer number date datetime photos
    # group
    widget: str | None = None  # the schema's x-ui widget, e.g. "location" for a group
    description: str | None = None
    required: bool = False
    readonly: bool = False
    options: list[tuple[Any, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    children: list[Field] = field(default_factory=list)
    # The `if` schemas of the form's if/then rules that require this field: it is shown
    # only while one of them holds (see `shown_when`), and hidden fields are not sent.
    show_when: list[dict[str, Any]] = field(default_factory=list)
    hidden: bool = False
    # A grid field's choices as a tree: (the path of the grids above, [(code, name, search
    # text)]) in the organisation's order, so that a grid is chosen by name, not by code.
    groups: list[GridGroup] = field(default_factory=list)

    @property
    def display(self) -> str:
        """The value as a person reads it: enum titles, not codes."""
        return self.show(self.value)

    def read_sent(self, sent: str) -> str:
        """A value as the form sent it (`false`, a code), as a person reads it: the option's
        title where it is one."""
        return next((title for option, title in self.options if form_value(option) == sent), sent)

    def show(self, value: Any) -> str:
        """Any value of this field as a person reads it (e.g. one from the case timeline)."""
        if value is None or value == "":
            return ""
        if isinstance(value, list):  # several choices (checkboxes): their titles
            return "、".join(self.show(v) for v in value)
        for option, title in self.options:
            if option == value and isinstance(option, bool) == isinstance(value, bool):
                return title
        if isinstance(value, bool):
            return "✓" if value else "✗"
        if self.kind == "datetime":
            return local_time(str(value))
        return str(value)


def readonly_values(fields: list[Field]) -> dict[str, Any]:
    """The values of a form's read-only fields, for the browser to test if/then rules on."""
    return {f.name: f.value for f in fields if f.readonly and f.value is not None}


def form_value(value: Any) -> str:
    """How a value travels in an HTML form: JSON spelling for booleans and null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _options(prop: dict[str, Any]) -> list[tuple[Any, str]]:
    if "oneOf" in prop:
        return [(o.get("const"), o.get("title") or str(o.get("const"))) for o in prop["oneOf"]]
    if "enum" in prop:
        return [(v, str(v)) for v in prop["enum"]]
    return []


def _kind(prop: dict[str, Any]) -> str:
    widget = (prop.get("x-ui") or {}).get("widget")
    if prop.get("type") == "object":
        return "group"
    if widget == "photos":
        return "photos"
    if prop.get("type") == "array" and _options(prop.get("items") or {}):
        return "checkboxes"  # several of a list of choices
    if widget in ("grid", "leader"):
        return widget
    if _options(prop):
        return "radio" if widget == "radio" else "select"
    if prop.get("type") == "boolean":
        return "boolean"
    if prop.get("type") in ("integer", "number"):
        return prop["type"]
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "date-time":
        return "datetime"
    return "textarea" if widget == "textarea" else "text"


def shown_when(schema: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Field name -> the `if` schemas under which the form asks for it: a writable field
    that only if/then rules require (the extension fields when an extension is asked for,
    the 五到位 plan for a major hazard) applies only while one of their `if`s holds. A field
    with `"x-ui": {"always": true}` is always shown (an opinion optional otherwise)."""
    always = set(schema.get("required") or [])
    props = schema.get("properties") or {}
    rules = [schema, *(schema.get("allOf") or [])]
    found: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        condition, then = rule.get("if"), rule.get("then")
        if not isinstance(condition, dict) or not isinstance(then, dict):
            continue
        for name in then.get("required") or []:
            prop = props.get(name) or {}
            if name in always or prop.get("readOnly") or (prop.get("x-ui") or {}).get("always"):
                continue
            found.setdefault(name, []).append(condition)
    return found


def _applies(conditions: list[dict[str, Any]], values: dict[str, Any]) -> bool:
    return not conditions or any(Draft202012Validator(c).is_valid(values) for c in conditions)


def build_fields(
    schema: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    prefix: str = "",
    grids: list[tuple[str, str]] | None = None,
    leaders: list[tuple[str, str]] | None = None,
    readonly: bool = False,
    groups: list[GridGroup] | None = None,
) -> list[Field]:
    """`grids`: (code, label) of the organisation's grids, the choices of a grid field, and
    `groups` the same as a tree (`grid_groups`), which the input shows;
    `leaders`: (group key, label) of their supervising leaders, for a leader field;
    `readonly`: the fields belong to a read-only object (its parts are read-only too)."""
    if not schema:
        return []
    errors = errors or {}
    required = set(schema.get("required") or [])
    conditional = shown_when(schema)
    result = []
    for name, prop in (schema.get("properties") or {}).items():
        path = prefix + name
        kind = _kind(prop)
        f = Field(
            name=path,
            title=prop.get("title") or name,
            kind=kind,
            widget=(prop.get("x-ui") or {}).get("widget"),
            description=prop.get("description"),
            required=name in required,
            readonly=readonly or bool(prop.get("readOnly")),
            options=_options(prop)
            or (_options(prop.get("items") or {}) if kind == "checkboxes" else [])
            or ([(True, _l("yes")), (False, _l("no"))] if kind == "boolean" else [])
            or (list(grids or []) if kind == "grid" else [])
            or (list(leaders or []) if kind == "leader" else []),
            value=(values or {}).get(name),
            error=errors.get(path),
            show_when=conditional.get(name, []),
            groups=list(groups or []) if kind == "grid" else [],
        )
        f.hidden = not _applies(f.show_when, values or {})
        f.required = f.required or bool(f.show_when)  # required whenever it is shown
        if kind == "group":
            nested = f.value if isinstance(f.value, dict) else {}
            f.children = build_fields(
                prop,
                nested,
                errors,
                prefix=path + ".",
                grids=grids,
                leaders=leaders,
                readonly=f.readonly,
                groups=groups,
            )
        result.append(f)
    return result


def _parse_scalar(prop: dict[str, Any], raw: str) -> Any:
    kind = prop.get("type")
    if kind == "boolean" or (not kind and raw in ("true", "false")):
        return {"true": True, "false": False}.get(raw, raw)
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            number = float(raw)
            return int(number) if number.is_integer() else number
    except ValueError:
        return raw
    for value, _title in _options(prop):
        if form_value(value) == raw:
            return value
    return raw


def parse_submission(
    schema: dict[str, Any] | None,
    form: MultiDict,
    photos: dict[str, list[str]] | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """The writable fields a person filled in, as JSON values; blank fields are left out."""
    data: dict[str, Any] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        path = prefix + name
        kind = _kind(prop)
        if kind == "group":
            nested = parse_submission(prop, form, photos, prefix=path + ".")
            if nested:
                data[name] = nested
        elif kind == "photos":
            ids = [i for i in form.getlist(path) if i] + list((photos or {}).get(path, []))
            if ids:
                data[name] = list(dict.fromkeys(ids))
        elif kind == "checkboxes":
            # none ticked is an answer too (the marker says the field was on the form)
            chosen = [_parse_scalar(prop.get("items") or {}, v) for v in form.getlist(path) if v]
            if chosen or form.get(path + CHOICES_SHOWN):
                data[name] = list(dict.fromkeys(chosen))
        else:
            raw = (form.get(path) or "").strip()
            if raw != "":
                data[name] = _parse_scalar(prop, raw)
    return data


def local_time(value: str | None, with_time: bool = True) -> str:
    """An ISO time as people here read it: China time, minutes."""
    from engine import CHINA, parse_iso

    if not value:
        return ""
    try:
        at = parse_iso(value).astimezone(CHINA)
    except ValueError:
        return value
    return at.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
