"""Case numbers: what people call a case (YH-2026-000123), made of the installation's prefix
(config `cases.number_prefix`), the China-time year the case was reported in and its id,
zero-padded to six digits. The id stays in URLs and the API; the number is stored on the
case (unique), so a later change of prefix leaves the numbers already given as they were.

What people type is read generously: any case of letters, full-width characters, spaces or
dashes of any kind, a leading #, with or without the prefix ("yh2026-123", "2026-000123"); a
plain number is the case's id.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from .calendar import CHINA

DIGITS = 6
PREFIX_PATTERN = re.compile(r"[A-Z]{1,10}")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\s]+")
_NUMBER = re.compile(r"(?:(?P<prefix>[A-Z]+)-?)?(?P<year>\d{4})-(?P<seq>\d{1,12})")
_NUMBER_RUN_ON = re.compile(r"(?P<prefix>[A-Z]+)-?(?P<year>\d{4})(?P<seq>\d{1,12})")
_ID = re.compile(r"\d{1,12}")


def number(prefix: str, instance_id: int, created_at: datetime) -> str:
    """The case number of a case: YH-2026-000123."""
    return f"{prefix}-{created_at.astimezone(CHINA).year}-{instance_id:0{DIGITS}d}"


@dataclass(frozen=True)
class CaseRef:
    """A case named by what someone typed: its id, or its number."""

    instance_id: int | None = None
    number: str | None = None


def parse(text: str, prefix: str) -> CaseRef | None:
    """The case `text` names, if it is a case number or a plain id; None for any other text
    (which is then a search)."""
    typed = unicodedata.normalize("NFKC", text).strip().upper()
    typed = _DASHES.sub("-", typed).strip("-").lstrip("#").strip()  # "#123" as once shown
    if _ID.fullmatch(typed):
        return CaseRef(instance_id=int(typed))
    found = _NUMBER.fullmatch(typed) or _NUMBER_RUN_ON.fullmatch(typed)
    if found is None:
        return None
    year, seq = found["year"], int(found["seq"])
    return CaseRef(number=f"{found['prefix'] or prefix}-{year}-{seq:0{DIGITS}d}")
