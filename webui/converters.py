"""URL parts from outside, bounded: an id no table can hold is a 404, not a database error."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

BIGGEST_ID = 2**63 - 1  # PostgreSQL's bigint; SQLite's integer


class BoundedInt(IntegerConverter):
    """Flask's `int`, refusing (404) a number the databases cannot store."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", BIGGEST_ID)
        super().__init__(url_map, *args, **kwargs)
