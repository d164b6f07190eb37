"""The organisation's own words in the reader's language: the roles people hold (a role is any
name a process lane gives, engine/definitions.py; these are the ones the product itself knows)
and the levels of the grid tree (engine/org_edit.LEVELS)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

ROLE_LABELS: dict[str, LazyString] = {
    "grid_member": _l("Grid member"),
    "dispatcher": _l("Dispatcher"),
    "department": _l("Department officer"),
    "leader": _l("Supervising leader"),
    "admin": _l("Administrator"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def known_roles(held: list[list[str]]) -> list[str]:
    """The product's roles, then every other role someone holds (from a process lane)."""
    others = sorted({r for roles in held for r in roles} - ROLE_LABELS.keys())
    return [*ROLE_LABELS, *others]


LEVEL_LABELS: dict[str, LazyString] = {
    "市": _l("City"),
    "区县": _l("District or county"),
    "镇街": _l("Town or subdistrict"),
    "村社区": _l("Village or community"),
    "单位": _l("Unit"),
}


def level_label(level: str) -> str:
    return str(LEVEL_LABELS.get(level, level))


G = TypeVar("G", bound=Mapping[str, object])


def grid_rows(grids: Sequence[G]) -> list[tuple[G, int]]:
    """The tree, depth first, each grid with its depth (0 at the top), siblings by code; a
    grid whose parent is not among them is shown at the top (a leader's area, a grid whose
    parent is gone), not lost. The organisation page and the map share it."""
    children: dict[object, list[G]] = {}
    codes = {g["code"] for g in grids}
    for grid in grids:
        parent = grid["parent"] if grid["parent"] in codes else None
        children.setdefault(parent, []).append(grid)

    def by_code(siblings: list[G]) -> list[G]:
        return sorted(siblings, key=lambda g: str(g["code"]), reverse=True)

    rows: list[tuple[G, int]] = []
    stack = [(g, 0) for g in by_code(children.get(None, []))]
    while stack:
        grid, depth = stack.pop()
        rows.append((grid, depth))
        stack.extend((child, depth + 1) for child in by_code(children.get(grid["code"], [])))
    return rows
