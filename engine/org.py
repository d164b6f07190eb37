"""The organisation: grids (a tree of any depth), departments, users, roles, group keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .errors import NotFound
from .models import ApiToken, Department, Grid, User, UserGrid, UserRole
from .records import DepartmentRecord, GridRecord, TokenRecord, UserRecord


@dataclass(frozen=True)
class Actor:
    """Who runs a command, with every group key that may make a task theirs."""

    username: str
    groups: frozenset[str]
    roles: frozenset[str]
    department: str | None = None
    grids: tuple[str, ...] = ()
    display_name: str | None = None  # the name people know them by

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def name(self) -> str:
        return self.display_name or self.username


SYSTEM = Actor("system", frozenset({"user:system", "role:admin"}), frozenset({"admin"}))
# Reports from the public form (like the 12350 hotline) are started by this actor.
PUBLIC = Actor("public", frozenset({"user:public"}), frozenset())


def leader_group(grid_code: str) -> str:
    return f"leader:{grid_code}"


def grid_chain(session: Session, grid_code: str) -> list[Grid]:
    """The grid and its ancestors, nearest first."""
    chain: list[Grid] = []
    code: str | None = grid_code
    while code is not None and len(chain) < 64:
        grid = session.get(Grid, code)
        if grid is None:
            if not chain:
                raise ValueError(f"unknown grid '{grid_code}'")
            break
        chain.append(grid)
        code = grid.parent_code
    return chain


def leader_of(session: Session, grid_code: str, up: int = 0) -> str:
    """Group key of the supervising leader `up` levels above the grid (clamped at the top)."""
    chain = grid_chain(session, grid_code)
    return leader_group(chain[min(max(int(up), 0), len(chain) - 1)].code)


def grids(session: Session) -> list[GridRecord]:
    """Every grid with its supervising leader's username and name (one query)."""
    rows = session.execute(
        select(Grid, User.display_name)
        .outerjoin(User, User.username == Grid.leader)
        .order_by(Grid.code)
    )
    return [
        GridRecord(
            code=g.code,
            name=g.name,
            parent=g.parent_code,
            level=g.level,
            leader=g.leader,
            leader_name=leader_name or g.leader,
            leader_group=leader_group(g.code),
        )
        for g, leader_name in rows
    ]


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """username -> the name people know them by (the username when there is none)."""
    wanted = set(usernames)
    if not wanted:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))
    )
    return {username: name or username for username, name in rows}


def grid_and_below(session: Session, grid_code: str) -> list[str]:
    """The grid's code and the codes of every grid below it, at any depth."""
    children: dict[str | None, list[str]] = {}
    for code, parent in session.execute(select(Grid.code, Grid.parent_code)):
        children.setdefault(parent, []).append(code)
    found, todo = [], [grid_code]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def load_actor(session: Session, username: str) -> Actor:
    user = session.get(User, username)
    if user is None or not user.active:
        raise NotFound(f"user '{username}' not found")
    roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.username == username)))
    grids = tuple(session.scalars(select(UserGrid.grid_code).where(UserGrid.username == username)))
    led = session.scalars(select(Grid.code).where(Grid.leader == username))
    groups = {f"user:{username}", *(f"role:{r}" for r in roles)}
    groups.update(leader_group(code) for code in led)
    if user.department:
        groups.add(f"dept:{user.department}")
    return Actor(username, frozenset(groups), roles, user.department, grids, user.display_name)


def add_user(
    session: Session,
    username: str,
    *,
    roles: list[str],
    password_hash: str | None = None,
    display_name: str | None = None,
    department: str | None = None,
    grids: list[str] | None = None,
    email: str | None = None,
) -> User:
    """A new user; `password_hash` comes from `passwords.Passwords` (None: cannot sign in).
    OrgRefused names what is wrong."""
    from .org_edit import OrgRefused, save_user

    if session.get(User, username) is not None:
        raise OrgRefused("username", "org_user_exists", f"user '{username}' already exists")
    save_user(
        session,
        username,
        roles=roles,
        display_name=display_name,
        department=department,
        grids=grids,
        email=email,
    )
    user = session.get(User, username)
    assert user is not None
    user.password_hash = password_hash
    return user


def has_users(session: Session) -> bool:
    return session.scalar(select(User.username).limit(1)) is not None


def departments(session: Session) -> list[DepartmentRecord]:
    """Every department with how many users work in it (two queries)."""
    counts = dict(
        session.execute(
            select(User.department, func.count())
            .where(User.department.is_not(None))
            .group_by(User.department)
        ).all()
    )
    return [
        DepartmentRecord(code=d.code, name=d.name, users=counts.get(d.code, 0))
        for d in session.scalars(select(Department).order_by(Department.code))
    ]


def users(session: Session) -> list[UserRecord]:
    """Every user, active or not, with roles and grids (three queries)."""
    roles: dict[str, list[str]] = {}
    for username, role in session.execute(select(UserRole.username, UserRole.role)):
        roles.setdefault(username, []).append(role)
    grids: dict[str, list[str]] = {}
    for username, code in session.execute(select(UserGrid.username, UserGrid.grid_code)):
        grids.setdefault(username, []).append(code)
    return [
        UserRecord(
            name=user.username,
            display_name=user.display_name,
            roles=sorted(roles.get(user.username, [])),
            department=user.department,
            grids=sorted(grids.get(user.username, [])),
            email=user.email,
            active=user.active,
        )
        for user in session.scalars(select(User).order_by(User.username))
    ]


def stored_password_hash(session: Session, username: str) -> str | None:
    """The stored hash of an active user; None for an unknown or inactive user or one
    without a password, who cannot sign in."""
    user = session.get(User, username)
    return user.password_hash if user is not None and user.active else None


def replace_password_hash(session: Session, username: str, old: str, new: str) -> bool:
    """Store `new` only if the hash is still `old`, the one just verified: a password changed
    in the meantime is kept. Whether it was stored."""
    result = session.execute(
        update(User)
        .where(User.username == username, User.password_hash == old)
        .values(password_hash=new)
    )
    return bool(getattr(result, "rowcount", 0))


def set_password_hash(session: Session, username: str, password_hash: str) -> None:
    """Store a new password hash whatever the old one was; NotFound for no such user."""
    user = session.get(User, username)
    if user is None:
        raise NotFound(f"user '{username}' not found")
    user.password_hash = password_hash


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TOKEN_DAYS = 3650


def new_token(session: Session, username: str, days: int, label: str | None = None) -> str:
    """A new API token that works for `days` days; only its hash is stored. Token times are
    the wall clock's, not the engine clock's: the process that makes a token and the one that
    checks it must agree on them."""
    if session.get(User, username) is None:
        raise NotFound(f"user '{username}' not found")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}")
    token = "hf_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        ApiToken(
            username=username,
            token_hash=_token_digest(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
            label=(label or "").strip()[:80] or None,
        )
    )
    return token


def user_for_token(session: Session, token: str) -> str | None:
    """The user of a token that is neither revoked (deleted) nor expired."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_digest(token), ApiToken.expires_at > datetime.now(UTC)
        )
    )
    return row.username if row else None


def tokens(session: Session, username: str) -> list[TokenRecord]:
    """The user's tokens that still work, newest first."""
    rows = session.scalars(
        select(ApiToken)
        .where(ApiToken.username == username, ApiToken.expires_at > datetime.now(UTC))
        .order_by(ApiToken.id.desc())
    )
    return [
        TokenRecord(
            id=row.id,
            label=row.label,
            created_at=row.created_at.isoformat(),
            expires_at=row.expires_at.isoformat(),
        )
        for row in rows
    ]


def revoke_token(session: Session, username: str, token_id: int) -> None:
    """Delete one of the user's tokens; NotFound if it is not theirs (or not there)."""
    result = session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.username == username)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"no token {token_id} of user '{username}'")


def deactivate(session: Session, username: str) -> None:
    """Mark the user inactive (they keep their history); NotFound for no such user."""
    user = session.get(User, username)
    if user is None:
        raise NotFound(f"user '{username}' not found")
    user.active = False


def delete_tokens(session: Session, username: str) -> int:
    """Revoke every API token of the user; how many."""
    result = session.execute(delete(ApiToken).where(ApiToken.username == username))
    return int(getattr(result, "rowcount", 0) or 0)
