"""Files that apply to the whole installation (calendar.yaml, translations/*.yaml) come from
the newest deployment that has them, parsed once and re-read every minute, so that a
deployment made by another process reaches this one without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import DeploymentFile
from .store import Database

T = TypeVar("T")
TTL_SECONDS = 60.0


class NewestDeployedFile(Generic[T]):
    def __init__(
        self,
        db: Database,
        parse: Callable[[str], T],
        empty: Callable[[], T],
        *,
        kind: str,
        name: str | None = None,
    ) -> None:
        self.db, self.parse, self.empty = db, parse, empty
        self.stmt = select(DeploymentFile.content).where(DeploymentFile.kind == kind)
        if name is not None:
            self.stmt = self.stmt.where(DeploymentFile.name == name)
        self.stmt = self.stmt.order_by(DeploymentFile.deployment_id.desc()).limit(1)
        self.value: T = empty()
        self.loaded_at = float("-inf")

    def get(self, session: Session | None = None) -> T:
        """The parsed file; `session`: the command's own, so as not to open a second one."""
        if time.monotonic() - self.loaded_at < TTL_SECONDS:
            return self.value
        if session is None:
            with self.db.reading() as reading:
                content = reading.scalar(self.stmt)
        else:
            content = session.scalar(self.stmt)
        self.value = self.parse(content) if content else self.empty()
        self.loaded_at = time.monotonic()
        return self.value

    def expire(self) -> None:
        """After a deployment in this process: read again at the next use."""
        self.loaded_at = float("-inf")
