"""Deadlines as people read them in a queue: how long is left, or how long it is overdue."""

from __future__ import annotations

from flask_babel import format_timedelta
from flask_babel import gettext as _

from engine import parse_iso

from .context import current_engine


def time_left(due_at: str | None) -> str:
    """ "3 days left" / "overdue by 2 hours", rounded to the largest unit, by the engine clock."""
    if not due_at:
        return ""
    now = current_engine().now()
    span = parse_iso(due_at) - now
    if span.total_seconds() < 0:
        return _("overdue by %(span)s", span=format_timedelta(-span, threshold=1))
    return _("%(span)s left", span=format_timedelta(span, threshold=1))
