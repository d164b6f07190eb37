"""Changing the organisation: departments and the grid tree (add, rename, move, set the
supervising leader). Each change checks what it needs and raises ValueError naming the field
and the value that is wrong; nothing is written by a refused change.

A grid's leader is a group (`leader:<grid>`), so a supervision task already given to a grid
goes to its new leader as soon as the leader is changed.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Department, Grid, User, UserRole

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
LEVELS = ("市", "区县", "镇街", "村社区", "单位")
LEADER_ROLE = "leader"


def check_code(field: str, value: str) -> str:
    value = (value or "").strip()
    if not CODE.fullmatch(value):
        raise ValueError(
            f"{field}: '{value}' is not a code (letters, digits, '-', '_' or '.', up to 64)"
        )
    return value


def _name(field: str, value: str) -> str:
    value = " ".join((value or "").split())
    if not value or len(value) > 255:
        raise ValueError(f"{field}: a name of 1 to 255 characters is needed")
    return value


def add_department(session: Session, code: str, name: str) -> Department:
    code = check_code("code", code)
    if session.get(Department, code) is not None:
        raise ValueError(f"code: department '{code}' already exists")
    department = Department(code=code, name=_name("name", name))
    session.add(department)
    session.flush()
    return department


def rename_department(session: Session, code: str, name: str) -> None:
    department = session.get(Department, code)
    if department is None:
        raise ValueError(f"code: unknown department '{code}'")
    department.name = _name("name", name)
    session.flush()


def _leader(session: Session, username: str | None) -> str | None:
    if not username:
        return None
    user = session.get(User, username)
    if user is None:
        raise ValueError(f"leader: unknown user '{username}'")
    role = session.get(UserRole, (username, LEADER_ROLE))
    if role is None:
        raise ValueError(f"leader: '{username}' does not have the {LEADER_ROLE} role")
    return username


def _parent(session: Session, parent: str | None) -> str | None:
    if not parent:
        return None
    if session.get(Grid, parent) is None:
        raise ValueError(f"parent: unknown grid '{parent}'")
    return parent


def _level(level: str | None) -> str | None:
    if level and level not in LEVELS:
        raise ValueError(f"level: '{level}' is not one of {', '.join(LEVELS)}")
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
        raise ValueError(f"code: grid '{code}' already exists")
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
        raise ValueError(f"code: unknown grid '{code}'")
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
            raise ValueError(f"parent: '{parent}' is '{code}' or below it")
        up = session.scalar(select(Grid.parent_code).where(Grid.code == up))
    grid.parent_code = new_parent
    session.flush()


def set_leader(session: Session, code: str, leader: str | None) -> None:
    _grid(session, code).leader = _leader(session, leader)
    session.flush()


def set_level(session: Session, code: str, level: str | None) -> None:
    _grid(session, code).level = _level(level)
    session.flush()
