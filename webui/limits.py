"""Rate limits (Flask-Limiter, per client address unless a limit says otherwise): the public
report and lookup, and the password change."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")
