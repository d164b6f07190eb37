"""The organisation's own words in the reader's language: the roles people hold (a role is any
name a process lane gives, engine/definitions.py; these are the ones the product itself knows)
and the levels of the grid tree (engine/org_edit.LEVELS)."""

from __future__ import annotations

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
