"""Changing the organisation: departments, the grid tree (add, rename, move, set the
supervising leader) and users (roles, department, grids). Each change checks what it needs and
raises OrgRefused naming the field and the value that is wrong, with a code any language can
phrase; nothing is written by a refused change.

A grid's leader is a group (`leader:<grid>`), so a supervision task already given to a grid
goes to its new leader as soon as the leader is changed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .errors import FieldError
from .models import Department, Grid, User, UserGrid, UserRole

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}")  # users.username is 80 long
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
LEVELS = ("市", "区县", "镇街", "村社区", "单位")
LEADER_ROLE = "leader"
MAX_NAME = 255


class OrgRefused(ValueError):
    """A refused change: the `field`, and a `reason` (code and params: kind, value) that
    the pages phrase in the reader's language; str() is the English text the CLI prints."""

    def __init__(self, field: str, code: str, text: str, **params: Any) -> None:
        super().__init__(f"{field}: {text}")
        self.field = field
        self.reason = FieldError(code, text, params)


def check_code(field: str, value: str) -> str:
    value = (value or "").strip()
    if not CODE.fullmatch(value):
        raise OrgRefused(
            field,
            "org_not_a_code",
            f"'{value}' is not a code (letters, digits, '-', '_' or '.', up to 64)",
            value=value,
        )
    return value


def _name(field: str, value: str) -> str:
    value = " ".join((value or "").split())
    if not value or len(value) > MAX_NAME:
        raise OrgRefused(
            field, "org_name_needed", "a name of 1 to 255 characters is needed", limit=MAX_NAME
        )
    return value


def _exists(field: str, kind: str, value: str) -> OrgRefused:
    return OrgRefused(field, f"org_{kind}_exists", f"{kind} '{value}' already exists", value=value)


def _unknown(field: str, kind: str, value: str) -> OrgRefused:
    return OrgRefused(field, f"org_unknown_{kind}", f"unknown {kind} '{value}'", value=value)


def add_department(session: Session, code: str, name: str) -> Department:
    code = check_code("code", code)
    if session.get(Department, code) is not None:
        raise _exists("code", "department", code)
    department = Department(code=code, name=_name("name", name))
    session.add(department)
    session.flush()
    return department


def rename_department(session: Session, code: str, name: str) -> None:
    department = session.get(Department, code)
    if department is None:
        raise _unknown("code", "department", code)
    department.name = _name("name", name)
    session.flush()


def _leader(session: Session, username: str | None) -> str | None:
    if not username:
        return None
    if session.get(User, username) is None:
        raise _unknown("leader", "user", username)
    if session.get(UserRole, (username, LEADER_ROLE)) is None:
        raise OrgRefused(
            "leader",
            "org_not_a_leader",
            f"'{username}' does not have the {LEADER_ROLE} role",
            value=username,
        )
    return username


def _parent(session: Session, parent: str | None) -> str | None:
    if not parent:
        return None
    if session.get(Grid, parent) is None:
        raise _unknown("parent", "grid", parent)
    return parent


def _level(level: str | None) -> str | None:
    if level and level not in LEVELS:
        raise OrgRefused(
            "level",
            "org_unknown_level",
            f"'{level}' is not one of {', '.join(LEVELS)}",
            value=level,
            limit="、".join(LEVELS),
        )
    return level or None


def add_grid(
    session: Session,
    code: str,
    name: str,
    parent: str | None = None,
    level: str | None = None,
    leader: str | None = None,
) -> Grid:
    code = check_code("code", code)
    if session.get(Grid, code) is not None:
        raise _exists("code", "grid", code)
    grid = Grid(
        code=code,
        name=_name("name", name),
        parent_code=_parent(session, parent),
        level=_level(level),
        leader=_leader(session, leader),
    )
    session.add(grid)
    session.flush()
    return grid


def _grid(session: Session, code: str) -> Grid:
    grid = session.get(Grid, code)
    if grid is None:
        raise _unknown("code", "grid", code)
    return grid


def rename_grid(session: Session, code: str, name: str) -> None:
    _grid(session, code).name = _name("name", name)
    session.flush()


def move_grid(session: Session, code: str, parent: str | None) -> None:
    """Put the grid (with everything below it) under another grid, or at the top."""
    grid = _grid(session, code)
    new_parent = _parent(session, parent)
    up = new_parent
    while up is not None:  # the new parent may not be the grid itself or below it
        if up == code:
            raise OrgRefused(
                "parent", "org_grid_under_itself", f"'{parent}' is '{code}' or below it",
                value=parent, grid=code,
            )  # fmt: skip
        up = session.scalar(select(Grid.parent_code).where(Grid.code == up))
    grid.parent_code = new_parent
    session.flush()


def set_leader(session: Session, code: str, leader: str | None) -> None:
    _grid(session, code).leader = _leader(session, leader)
    session.flush()


def set_level(session: Session, code: str, level: str | None) -> None:
    _grid(session, code).level = _level(level)
    session.flush()


def update_grid(
    session: Session,
    code: str,
    name: str,
    parent: str | None,
    level: str | None,
    leader: str | None,
) -> None:
    """Every property of a grid at once, as its edit form and an import row give them."""
    rename_grid(session, code, name)
    move_grid(session, code, parent)
    set_level(session, code, level)
    set_leader(session, code, leader)


def save_user(
    session: Session,
    username: str,
    *,
    roles: list[str],
    display_name: str | None = None,
    department: str | None = None,
    grids: list[str] | None = None,
    email: str | None = None,
) -> str:
    """Add the user, or replace an existing one's name, roles, department, grids and e-mail
    (their password, state and history stay). Returns "added" or "updated"."""
    username = (username or "").strip()
    if not USERNAME.fullmatch(username):
        raise OrgRefused(
            "username",
            "org_not_a_username",
            f"'{username}' is not a user name (letters, digits, '-', '_', '.' or '@', up to 80)",
            value=username,
        )
    roles = list(dict.fromkeys(r.strip() for r in roles if r.strip()))
    if not roles:
        raise OrgRefused(
            "roles", "org_roles_needed", "at least one role is needed (e.g. grid_member)"
        )
    for role in roles:
        check_code("roles", role)
    if department and session.get(Department, department) is None:
        raise _unknown("department", "department", department)
    grids = list(dict.fromkeys(grids or []))
    for code in grids:
        if session.get(Grid, code) is None:
            raise _unknown("grids", "grid", code)
    email = (email or "").strip() or None
    if email and not EMAIL.fullmatch(email):
        raise OrgRefused("email", "org_not_an_email", f"not an e-mail address: '{email}'")
    if display_name is not None and display_name.strip():
        display_name = _name("display_name", display_name)
    user = session.get(User, username)
    action = "updated"
    if user is None:
        action = "added"
        user = User(username=username, active=True, created_at=datetime.now(UTC))
        session.add(user)
    user.display_name = display_name or user.display_name or username
    user.department = department or None
    user.email = email
    session.flush()
    session.execute(delete(UserRole).where(UserRole.username == username))
    session.execute(delete(UserGrid).where(UserGrid.username == username))
    session.add_all(UserRole(username=username, role=r) for r in roles)
    session.add_all(UserGrid(username=username, grid_code=g) for g in grids)
    session.flush()
    return action
