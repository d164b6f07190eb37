"""Files that apply to the whole installation (calendar.yaml, translations/*.yaml) come from
the newest deployment that has them, parsed once and re-read every minute, so that a
deployment made by another process reaches this one without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
TTL_SECONDS = 60.0


class NewestDeployedFile(Generic[T]):
    def __init__(
        self,
        read: Callable[[], str | None],
        parse: Callable[[str], T],
        empty: Callable[[], T],
        ttl: float = TTL_SECONDS,
    ) -> None:
        self._read = read  # the newest deployment's file text, or None when none has it
        self._parse, self._empty, self._ttl = parse, empty, ttl
        self._value: T = empty()
        self._loaded_at = float("-inf")

    def get(self) -> T:
        if time.monotonic() - self._loaded_at >= self._ttl:
            content = self._read()
            self._value = self._parse(content) if content else self._empty()
            self._loaded_at = time.monotonic()
        return self._value

    def expire(self) -> None:
        """Read again on the next use (a deployment may have brought a new file)."""
        self._loaded_at = float("-inf")
