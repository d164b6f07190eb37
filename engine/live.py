"""Live workflow objects kept between commands, checked out exclusively and by version.

Restoring a workflow from JSON costs several times a step, so a process keeps the objects it
has. A command checks one out (removing it, so no two threads share it) only if its version
equals the row's; after a commit it is put back under the new version; on any failure it is
dropped, so a half-run workflow is never reused.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class LiveWorkflows:
    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def checkout(self, instance_id: int, version: int) -> Any | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is not None and item[0] == version:
            return item[1]
        return None

    def put(self, instance_id: int, version: int, workflow: Any) -> None:
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
