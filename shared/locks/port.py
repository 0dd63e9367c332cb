"""The port every unit reads and writes deploy locks through (declared once, here).

Adapter: `shared.locks.dynamodb.DynamoDbLockStore`; fake: `tests/support/fakes/locks.py`; both held to one contract
in tests/contracts/test_lock_store.py.
"""

from __future__ import annotations

from typing import Protocol

from shared.deadline import Deadline
from shared.errors import UnavailableError
from shared.locks.models import Lock


class LockStoreUnavailableError(UnavailableError):
    """The store did not answer (in time): whether a target is locked is unknown, so a deploy must not start."""

    title = "Lock table unavailable"


class LockStore(Protocol):
    """One lock per client and environment, written only conditionally; raises `LockStoreUnavailableError`."""

    def acquire(self, lock: Lock, *, now: int, deadline: Deadline) -> Lock | None:
        """Store `lock` unless another user's lock is active at `now`: None if stored, else that lock.

        The holder's own active lock is replaced (a new reason or expiry); an expired lock is replaced by anyone.
        Two users at once: exactly one gets None, the other the winner's lock.
        """
        ...

    def get(self, client: str, env: str, *, deadline: Deadline) -> Lock | None:
        """The stored lock, expired or not (the caller compares with now: TTL deletion is late)."""
        ...

    def release(self, lock: Lock, *, deadline: Deadline) -> bool:
        """Delete `lock` if it is still the stored one (same holder and `locked_at`); False if it was not."""
        ...

    def active(self, *, now: int, deadline: Deadline) -> list[Lock]:
        """Every lock active at `now`, by client and environment."""
        ...
