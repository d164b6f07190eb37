"""Users as an administrator manages them: every account with its live sessions and working
API tokens, and reactivation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import org
from .errors import NotFound
from .models import ApiToken, User, WebSession
from .records import UserAccount


def accounts(
    session: Session, now: datetime, idle: timedelta, lifetime: timedelta
) -> list[UserAccount]:
    """Every user, active or not, with how many sessions are alive (not idle past `idle`,
    not older than `lifetime`) and how many tokens still work (five queries)."""
    live = dict(
        session.execute(
            select(WebSession.username, func.count())
            .where(WebSession.last_seen_at >= now - idle, WebSession.created_at >= now - lifetime)
            .group_by(WebSession.username)
        ).all()
    )
    working = dict(
        session.execute(
            select(ApiToken.username, func.count())
            .where(ApiToken.expires_at > datetime.now(UTC))  # token times are the wall clock's
            .group_by(ApiToken.username)
        ).all()
    )
    return [
        UserAccount(**user, sessions=live.get(user["name"], 0), tokens=working.get(user["name"], 0))
        for user in org.users(session)
    ]


def reactivate(session: Session, username: str) -> None:
    """The user may sign in again (with the password they had; tokens stay revoked)."""
    user = session.get(User, username)
    if user is None:
        raise NotFound(f"user '{username}' not found")
    user.active = True
