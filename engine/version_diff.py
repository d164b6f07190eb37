"""What a set of process files changes against a deployed version, as an administrator reads
it before deploying: per file, the BPMN elements and DMN rules added, removed or changed (by
their ids, with their names and what changed), the form fields added, removed or changed, and
for the other files how many lines changed.

An element's own content is compared without the elements inside it that have ids of their own
(a subprocess does not change when a task inside it does; the task does). Diagram layout
(BPMN DI) is reported once per file, not per shape.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from typing import Any, TypedDict

from lxml import etree

from .definitions import SourceFile, load_json, parse_xml

_DI = (
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DMN/20180521/DMNDI/",
    "https://www.omg.org/spec/DMN/20191111/DMNDI/",
)
# Attributes whose absence means this value (a modeler leaves a default out when it saves).
_DEFAULTS = {("decisionTable", "hitPolicy"): "UNIQUE"}
_CANVASES = {"BPMNPlane", "DMNDiagram"}  # what holds a diagram's shapes and edges
# Parts of an element that are shown with it, not as items of their own, although they
# carry ids (a rule's entries, a decision table's columns' expressions).
_PARTS = {"inputEntry", "outputEntry", "inputExpression", "text", "conditionExpression"}


class Change(TypedDict):
    """One element, rule or field of a file: added, removed or changed, and how."""

    kind: str  # element | rule | field | layout | lines
    id: str
    name: str | None
    change: str  # added | removed | changed
    details: list[str]


class FileDiff(TypedDict):
    name: str
    status: str  # added | removed | changed
    changes: list[Change]


def diff_files(deployed: list[SourceFile], draft: list[SourceFile]) -> list[FileDiff]:
    """Every file that differs between the deployed version's files and the draft's."""
    old = {f.name: f for f in deployed}
    new = {f.name: f for f in draft}
    result: list[FileDiff] = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before is not None and after is not None and before.content == after.content:
            continue
        status = "added" if before is None else "removed" if after is None else "changed"
        source = after or before
        assert source is not None
        changes = _changes(source.kind, before, after) if status == "changed" else []
        result.append({"name": name, "status": status, "changes": changes})
    return result


def _changes(kind: str, before: SourceFile | None, after: SourceFile | None) -> list[Change]:
    assert before is not None and after is not None
    if kind in ("bpmn", "dmn"):
        return _xml_changes(before, after)
    if kind == "form":
        return _form_changes(load_json(before.content), load_json(after.content))
    lines = list(difflib.unified_diff(before.content.splitlines(), after.content.splitlines()))
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return [_change("lines", "", None, "changed", [f"+{added} −{removed} lines"])]


def _change(kind: str, id_: str, name: str | None, change: str, details: list[str]) -> Change:
    return {"kind": kind, "id": id_, "name": name, "change": change, "details": details}


# --- BPMN and DMN ------------------------------------------------------------------------------


def _local(element: Any) -> str:
    return etree.QName(element).localname


def _is_layout(element: Any) -> bool:
    return str(etree.QName(element).namespace or "").startswith(_DI)


def _items(tree: Any) -> dict[str, Any]:
    """The elements with ids of their own (diagram layout and parts left out)."""
    found: dict[str, Any] = {}
    for element in tree.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        if _is_layout(element) or _local(element) in _PARTS:
            continue
        if any(_is_layout(up) for up in element.iterancestors()):
            continue
        found[element.get("id")] = element
    return found


def _own(element: Any) -> Any:
    """A copy of the element without the items inside it."""
    copy = etree.fromstring(etree.tostring(element))
    for inner in list(copy.iterdescendants()):
        parent = inner.getparent()
        item = isinstance(inner.tag, str) and inner.get("id") and _local(inner) not in _PARTS
        if item and parent is not None:
            parent.remove(inner)
    return copy


def _text_of(element: Any) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _rule_text(rule: Any) -> str:
    cells = [_text_of(cell) or "-" for cell in rule if _local(cell) in _PARTS]
    return " | ".join(cells)


def _canonical(element: Any) -> bytes:
    """The element as XML without the whitespace between its parts, which a modeler writes
    its own way (indentation) and which means nothing, nor an empty extensionElements."""
    copy = etree.fromstring(etree.tostring(element))
    for node in copy.iter():
        if node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    for empty in [e for e in copy.iter("{*}extensionElements") if len(e) == 0 and not e.text]:
        parent = empty.getparent()
        if parent is not None:  # holds nothing: as if it were not there
            parent.remove(empty)
    # exclusive: a namespace declared on the file's root (a modeler adds its own) is not
    # part of every element's text
    return etree.tostring(copy, method="c14n", exclusive=True)


def _properties(element: Any) -> dict[str, str]:
    """An element's extension properties (`<…:property name= value=>`), by name."""
    return {
        p.get("name"): p.get("value") or ""
        for p in element.iter("{*}property")
        if p.get("name") and any(_local(up) == "extensionElements" for up in p.iterancestors())
    }


def _element_details(old: Any, new: Any) -> list[str]:
    details: list[str] = []
    if old.tag != new.tag:
        details.append(f"type: {_local(old)} → {_local(new)}")
    for key in sorted(set(old.attrib) | set(new.attrib)):
        if key == "id":
            continue
        default = _DEFAULTS.get((_local(new), key))
        a, b = old.get(key, default), new.get(key, default)
        if a != b:
            label = etree.QName(key).localname if key.startswith("{") else key
            details.append(
                f"{label}: {a if a is not None else '—'} → {b if b is not None else '—'}"
            )
    if _local(new) == "rule":
        a, b = _rule_text(old), _rule_text(new)
        if a != b:
            details.append(f"{a} → {b}")
        return details
    old_own, new_own = _own(old), _own(new)
    for own in (old_own, new_own):
        for (local, key), value in _DEFAULTS.items():
            if _local(own) == local and own.get(key) is None:
                own.set(key, value)
    for part in ("documentation", "conditionExpression", "script", "extensionElements"):
        a = [text for e in old_own.iter(f"{{*}}{part}") if (text := _text_of(e))]
        b = [text for e in new_own.iter(f"{{*}}{part}") if (text := _text_of(e))]
        if a != b:
            details.append(f"{part}: {'; '.join(a) or '—'} → {'; '.join(b) or '—'}")
    old_props, new_props = _properties(old_own), _properties(new_own)
    for name in [*old_props, *(n for n in new_props if n not in old_props)]:
        a, b = old_props.get(name), new_props.get(name)
        if a != b:
            details.append(f"{name}: {a if a is not None else '—'} → {b if b is not None else '—'}")
    if not details and _canonical(old_own) != _canonical(new_own):
        details.append("content changed")
    return details


def _label(element: Any) -> str | None:
    if _local(element) == "rule":  # what its author wrote it is for, if anything
        return " ".join(element.findtext("{*}description", "").split()) or None
    return element.get("name") or element.get("label")


def _xml_changes(before: SourceFile, after: SourceFile) -> list[Change]:
    old_tree, new_tree = parse_xml(before), parse_xml(after)
    old, new = _items(old_tree), _items(new_tree)
    changes: list[Change] = []
    for id_ in [*old, *(i for i in new if i not in old)]:
        a, b = old.get(id_), new.get(id_)
        kind = "rule" if _local(a if a is not None else b) == "rule" else "element"
        if a is None:
            changes.append(_change(kind, id_, _label(b), "added", [_local(b)]))
        elif b is None:
            changes.append(_change(kind, id_, _label(a), "removed", [_local(a)]))
        else:
            details = _element_details(a, b)
            if details:
                changes.append(_change(kind, id_, _label(b), "changed", details))
    if _layout(old_tree) != _layout(new_tree):
        changes.append(_change("layout", "", None, "changed", ["diagram layout changed"]))
    return changes


def _layout(tree: Any) -> list[bytes]:
    """The diagram's shapes and edges, sorted: a modeler writes them in its own order."""
    return sorted(
        _canonical(e)
        for e in tree.iter()
        if isinstance(e.tag, str)
        and _is_layout(e)
        and (parent := e.getparent()) is not None
        and isinstance(parent.tag, str)
        and _local(parent) in _CANVASES
    )


# --- forms -------------------------------------------------------------------------------------


def _fields(schema: Any, prefix: str = "") -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(dotted path, its schema without nested properties, required) for every field."""
    if not isinstance(schema, dict):
        return
    required = set(schema.get("required") or [])
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        if not isinstance(prop, dict):
            continue
        own = {k: v for k, v in prop.items() if k not in ("properties", "required")}
        yield path, own, name in required
        yield from _fields(prop, f"{path}.")


def _form_changes(old: Any, new: Any) -> list[Change]:
    before = {path: (own, req) for path, own, req in _fields(old)}
    after = {path: (own, req) for path, own, req in _fields(new)}
    changes: list[Change] = []
    for path in [*before, *(p for p in after if p not in before)]:
        a, b = before.get(path), after.get(path)
        if a is None:
            assert b is not None
            changes.append(_change("field", path, b[0].get("title"), "added", []))
        elif b is None:
            changes.append(_change("field", path, a[0].get("title"), "removed", []))
        else:
            details = [
                f"{key}: {_short(a[0].get(key))} → {_short(b[0].get(key))}"
                for key in sorted(a[0].keys() | b[0].keys())
                if a[0].get(key) != b[0].get(key)
            ]
            if a[1] != b[1]:
                details.append("now required" if b[1] else "no longer required")
            if details:
                changes.append(_change("field", path, b[0].get("title"), "changed", details))
    rest = ("allOf", "if", "then", "else", "x-checks", "x-summary", "x-search", "x-public")
    for key in rest:
        if (old or {}).get(key) != (new or {}).get(key):
            changes.append(_change("field", key, None, "changed", ["form rules changed"]))
    return changes


def _short(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "…"
