"""`$ref`s between the form files of one deployment, inlined once when the deployment compiles.

`forms/_defs.json` (any `forms/_*.json`) holds definitions several forms share, such as the
category options. A form refers to one with `{"$ref": "_defs.json#/$defs/category", ...}`; the
reference is resolved through a `referencing.Registry` of the deployment's own form files, so
a reference never reaches the network or the disk. Everything that reads a form (the HTML
renderer, the queue filters, the translations, the API, submission checks) gets a copy in
which each `$ref` is replaced by the schema it names, its siblings merged over it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from .errors import Problem
from .wording import Wording, wording

# Keywords whose value is a map of schemas, a list of schemas, or one schema (draft 2020-12);
# every other keyword's value is data (const, enum, default, x-checks, ...) and is copied.
_SCHEMA_MAPS = frozenset(
    {"$defs", "definitions", "properties", "patternProperties", "dependentSchemas"}
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
# Beside a $ref these (and x-* keys) may replace the referenced schema's value: they say how
# this form shows the field, not what JSON Schema accepts, so the merged copy validates as the
# $ref would. Any other keyword beside a $ref must agree with the referenced schema's.
_ANNOTATIONS = frozenset(
    {"title", "description", "readOnly", "writeOnly", "default", "examples", "deprecated"}
)
# A chain of references this long, or this many expansions in one file, is not a form but
# an attempt to make the deployment hang (definitions that each use the next one twice).
_MAX_DEPTH = 32
_MAX_EXPANSIONS = 2000


def is_shared(name: str) -> bool:
    """`forms/_defs.json`: a shared definitions file, which no task may use as its form."""
    return name.rsplit("/", 1)[-1].startswith("_")


def registry_of(documents: Mapping[str, Any]) -> Registry:
    """The deployment's form files (file name -> parsed JSON) as draft 2020-12 resources,
    each under its file name, so `_defs.json` beside `forms/report.json` is
    `forms/_defs.json`. No retrieval: a name outside the deployment resolves to nothing."""
    resources = [(name, DRAFT202012.create_resource(doc)) for name, doc in documents.items()]
    return Registry().with_resources(resources).crawl()


def inline_refs(name: str, schema: Any, registry: Registry) -> tuple[Any, list[Problem]]:
    """A copy of the schema of file `name` with every `$ref` replaced by what it names,
    and the problems found: a reference that names nothing in the deployment or points
    outside it, a cycle, a sibling that contradicts the referenced schema."""
    inliner = _Inliner(registry)
    try:
        resolved = inliner.schema(schema, name, "", frozenset({(name, "")}))
    except _TooMuch as stop:
        return schema, [*dict.fromkeys(inliner.problems), stop.problem]
    return resolved, list(dict.fromkeys(inliner.problems))


class _TooMuch(Exception):
    """Raised at the first reference past the limits: one problem, and nothing more done."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _join(pointer: str, *keys: str | int) -> str:
    return "/".join([pointer, *(_escape(str(k)) for k in keys)]).lstrip("/")


class _Inliner:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.problems: list[Problem] = []
        self.expansions = 0

    def schema(self, node: Any, file: str, pointer: str, chain: frozenset[tuple[str, str]]) -> Any:
        """`node` (at `pointer` in `file`) with its subschemas inlined; `chain`: the
        references being expanded around it, so that a cycle is seen, not followed."""
        if not isinstance(node, dict):
            return copy.deepcopy(node)  # a boolean schema, or something check_schema refuses
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef"):
                continue
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {
                    k: self.schema(v, file, _join(pointer, key, k), chain) for k, v in value.items()
                }
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [
                    self.schema(v, file, _join(pointer, key, i), chain) for i, v in enumerate(value)
                ]
            elif key in _SCHEMA_VALUES:
                out[key] = self.schema(value, file, _join(pointer, key), chain)
            else:
                out[key] = copy.deepcopy(value)
        if "$dynamicRef" in node:
            self._problem(file, pointer, wording("$dynamicRef is not supported in forms: use $ref"))
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return out
        target = self._follow(ref, file, pointer, chain)
        if target is None:
            return out
        for key in out.keys() & target.keys():
            if key not in _ANNOTATIONS and not key.startswith("x-") and out[key] != target[key]:
                self._problem(
                    file,
                    pointer,
                    wording(
                        "'%(keyword)s' beside $ref '%(ref)s' differs from the referenced "
                        "schema's: write it in one place",
                        keyword=key,
                        ref=ref,
                    ),
                )
        return {**target, **out}

    def _follow(
        self, ref: str, file: str, pointer: str, chain: frozenset[tuple[str, str]]
    ) -> dict[str, Any] | None:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            self._problem(
                file,
                pointer,
                wording(
                    "$ref '%(ref)s' points outside the deployment: only its forms/ files can be "
                    "referenced, nothing is fetched",
                    ref=ref,
                ),
            )
            return None
        document, fragment = urldefrag(urljoin(file, ref))
        key = (document, fragment)
        if key in chain:
            self._problem(
                file,
                pointer,
                wording("$ref '%(ref)s' is cyclic: it names a schema around it", ref=ref),
            )
            return None
        if len(chain) > _MAX_DEPTH or self.expansions >= _MAX_EXPANSIONS:
            message = wording(
                "$ref '%(ref)s': references nested too deep or used too often", ref=ref
            )
            raise _TooMuch(Problem(file, pointer or None, message))
        try:
            contents = self.registry.resolver(base_uri=file).lookup(ref).contents
        except Unresolvable:
            self._problem(
                file, pointer, wording("$ref '%(ref)s' names nothing in the deployment", ref=ref)
            )
            return None
        if not isinstance(contents, dict):
            self._problem(file, pointer, wording("$ref '%(ref)s' names no schema object", ref=ref))
            return None
        self.expansions += 1
        return self.schema(contents, document, fragment.lstrip("/"), chain | {key})

    def _problem(self, file: str, pointer: str, message: Wording) -> None:
        self.problems.append(Problem(file, pointer or None, message))
