"""Argon2id password hashing through pwdlib."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
        # Verified against when the e-mail is unknown, so that both failures cost the same.
        self._dummy = self._hash.hash("paindiary-dummy-password-for-timing")

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no stored hash, burn the same time and fail."""
        if password_hash is None:
            self._hash.verify(password, self._dummy)
            return False
        try:
            return self._hash.verify(password, password_hash)
        except Exception:  # a malformed stored hash is a failed login, never a 500
            return False
