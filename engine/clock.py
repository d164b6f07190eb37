"""The engine clock: one injectable source of "now" for timers, scripts and records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """System time; tests and operators use FrozenClock instead (like Camunda's ClockUtil)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    def __init__(self, at: datetime | None = None) -> None:
        self.at = (at or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def parse_iso(value: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO string; a value without offset is read as UTC."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
