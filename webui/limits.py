"""Rate limits (Flask-Limiter, per client address unless a limit says otherwise, moving
windows): the public report and lookup, failed sign-ins (per user name and per address), and
the password change. The counts are kept in memory, per server process."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    storage_uri="memory://",
    strategy="moving-window",
)
