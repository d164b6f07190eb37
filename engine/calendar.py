"""Working days for deadlines. China has one time zone and no daylight saving: +08:00."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from .clock import parse_iso
from .yaml_text import load_mapping

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

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day up to and including `end`'s (China time): a job
        dispatched on Friday and done on Monday took one; on the same day, none."""
        first, last = start.astimezone(CHINA).date(), end.astimezone(CHINA).date()
        days, day = 0, first
        while day < last:
            day += timedelta(days=1)
            days += self.is_working_day(day)
        return days


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
    doc = load_mapping(text, "the keys 'holidays' and 'workdays'")
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
