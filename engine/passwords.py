"""Password hashes: Argon2id (argon2-cffi) for every new one; the scrypt and PBKDF2 hashes that
werkzeug wrote before still verify, so that existing users keep signing in until their hash is
replaced at their next sign-in. The engine does not depend on the web framework for this."""

from __future__ import annotations

import hashlib
import hmac
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)
ARGON2_PREFIX = "$argon2"
WERKZEUG_PBKDF2_ITERATIONS = 1_000_000  # werkzeug's default when a hash names none


class Passwords:
    """Hashes and checks passwords with one set of Argon2id costs (config.yaml `security`)."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._argon2 = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )

    def hash(self, password: str) -> str:
        """A new Argon2id hash with its own random salt."""
        return self._argon2.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Whether `password` matches the stored hash (Argon2 or werkzeug's format); an
        unreadable hash matches nothing, so a damaged row cannot break the sign-in page."""
        if stored.startswith(ARGON2_PREFIX):
            try:
                return self._argon2.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False
        try:
            method, salt, digest = stored.split("$", 2)
            return hmac.compare_digest(_werkzeug_digest(method, salt, password), digest)
        except ValueError as exc:
            log.warning("unreadable password hash: %s", exc)
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True for a werkzeug hash and for an Argon2 hash made with other costs."""
        return not stored.startswith(ARGON2_PREFIX) or self._argon2.check_needs_rehash(stored)


def _werkzeug_digest(method: str, salt: str, password: str) -> str:
    """The hex digest werkzeug.security computes for `method$salt$...` (werkzeug 3.1)."""
    name, *args = method.split(":")
    if name == "scrypt":
        n, r, p = map(int, args) if args else (2**15, 8, 1)
        return hashlib.scrypt(
            password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p
        ).hex()
    if name == "pbkdf2" and len(args) <= 2:
        hash_name = args[0] if args else "sha256"
        iterations = int(args[1]) if len(args) == 2 else WERKZEUG_PBKDF2_ITERATIONS
        return hashlib.pbkdf2_hmac(hash_name, password.encode(), salt.encode(), iterations).hex()
    raise ValueError(f"unknown password hash method '{name}'")
