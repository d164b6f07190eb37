"""Server-side sessions of signed-in browsers (`web_sessions`): opened at sign-in, checked on
every request with one primary-key lookup, ended by sign-out, a password change, deactivation,
the idle timeout and the absolute lifetime."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from .models import WebSession

# last_seen_at is written at most this often per session: a request is a read, not a write
TOUCH_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, username: str, now: datetime, idle: timedelta, lifetime: timedelta
) -> str:
    """A new session for the user (their expired ones are dropped); returns its token."""
    session.execute(
        delete(WebSession).where(
            WebSession.username == username,
            or_(WebSession.last_seen_at < now - idle, WebSession.created_at < now - lifetime),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(token_hash=digest(token), username=username, created_at=now, last_seen_at=now)
    )
    return token


def check(
    session: Session, token: str, now: datetime, idle: timedelta, lifetime: timedelta
) -> tuple[str | None, str]:
    """(the user whose live session this is or None, what to write: "" | "touch" | "end")."""
    row = session.get(WebSession, digest(token))
    if row is None:
        return None, ""
    if row.last_seen_at < now - idle or row.created_at < now - lifetime:
        return None, "end"
    return row.username, "touch" if row.last_seen_at < now - TOUCH_EVERY else ""


def touch(session: Session, token: str, now: datetime) -> None:
    session.execute(
        update(WebSession).where(WebSession.token_hash == digest(token)).values(last_seen_at=now)
    )


def end(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))


def end_all(session: Session, username: str, keep: str | None = None) -> int:
    """End every session of the user but `keep` (a token); how many ended."""
    statement = delete(WebSession).where(WebSession.username == username)
    if keep:
        statement = statement.where(WebSession.token_hash != digest(keep))
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)
