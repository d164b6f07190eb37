"""JSON bodies from outside are looked at before anything parses them: Python's parser
recurses, so a body nested thousands deep would crash whoever parses it first (spectree, the
view) with a RecursionError; the limit and the size are checked on the raw bytes instead."""

from __future__ import annotations

MAX_JSON_BYTES = 1024 * 1024  # a form's data; photos travel as multipart, not JSON
MAX_JSON_DEPTH = 32


def too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets nest deeper than `limit` outside strings (one pass over the bytes)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False
