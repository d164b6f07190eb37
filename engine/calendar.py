"""Working days for deadlines. China has one time zone and no daylight saving: +08:00."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

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
