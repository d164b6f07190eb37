"""Working days for deadlines. China has one time zone and no daylight saving: +08:00."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml

from .clock import parse_iso

CHINA = timezone(timedelta(hours=8), "CST")


class WorkingCalendar:
    """Weekends are off unless listed as make-up working days (调休); holidays are off."""

    def __init__(
        self, holidays: set[date] | None = None, workdays: set[date] | None = None
    ) -> None:
        self.holidays = holidays or set()
        self.workdays = workdays or set()

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: datetime | str, days: int) -> datetime:
        """`days` working days after (or before, if negative) `start`, same local time."""
        local = parse_iso(start).astimezone(CHINA)
        step = 1 if days >= 0 else -1
        remaining = abs(int(days))
        while remaining:
            local += timedelta(days=step)
            if self.is_working_day(local.date()):
                remaining -= 1
        return local


CALENDAR_FILE = "calendar.yaml"


def _days(entry: Any, where: str) -> list[date]:
    """Dates of one entry: a date, "YYYY-MM-DD", "A..B", or {dates: ..., name: ...}."""
    value = entry.get("dates") if isinstance(entry, dict) else entry
    if isinstance(value, date):
        return [value]
    text = str(value or "").strip()
    first, _, last = text.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if last else start
    except ValueError:
        raise ValueError(f"{where}: '{text}' is not a date or a range A..B") from None
    if end < start:
        raise ValueError(f"{where}: range '{text}' ends before it starts")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def parse_calendar(text: str) -> WorkingCalendar:
    """Read calendar.yaml; raises ValueError naming the bad entry."""
    try:
        # Every scalar stays a string, so a bad date is reported with the entry it is in.
        doc = yaml.load(text, Loader=yaml.BaseLoader) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError("expected the keys 'holidays' and 'workdays'")
    found: dict[str, set[date]] = {}
    for key in ("holidays", "workdays"):
        days: set[date] = set()
        for i, entry in enumerate(doc.get(key) or []):
            days.update(_days(entry, f"{key}[{i}]"))
        found[key] = days
    both = found["holidays"] & found["workdays"]
    if both:
        raise ValueError(f"days both holiday and working day: {sorted(both)[0]}")
    return WorkingCalendar(found["holidays"], found["workdays"])


class NewestCalendar:
    """The calendar of the newest deployment that has one, re-read every `ttl` seconds, so
    that a deployment made by another process reaches this one; weekends only without one."""

    def __init__(self, read: Callable[[], str | None], ttl: float) -> None:
        self._read = read  # the newest calendar.yaml's text, or None
        self._ttl = ttl
        self._calendar = WorkingCalendar()
        self._loaded_at = float("-inf")

    def get(self) -> WorkingCalendar:
        if time.monotonic() - self._loaded_at >= self._ttl:
            content = self._read()
            self._calendar = parse_calendar(content) if content else WorkingCalendar()
            self._loaded_at = time.monotonic()
        return self._calendar

    def expire(self) -> None:
        """Read again on the next use (a deployment may have brought a new calendar)."""
        self._loaded_at = float("-inf")
