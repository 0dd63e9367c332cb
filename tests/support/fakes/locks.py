"""`LockStore` in one process; tests/contracts/test_lock_store.py holds it to the DynamoDB adapter."""

from __future__ import annotations

import threading

from shared.deadline import Deadline
from shared.locks.models import Lock, target_key
from shared.locks.port import LockStoreUnavailableError


class MemoryLockStore:
    """`unavailable=True` is a store that does not answer: callers must fail closed for deploys."""

    def __init__(self, *, unavailable: bool = False) -> None:
        self.locks: dict[str, Lock] = {}
        self.unavailable = unavailable
        self._mutex = threading.Lock()

    def acquire(self, lock: Lock, *, now: int, deadline: Deadline) -> Lock | None:
        self._answer()
        with self._mutex:
            held = self.locks.get(lock.target)
            if held is not None and held.active(now) and not held.held_by(lock.holder):
                return held
            self.locks[lock.target] = lock
            return None

    def get(self, client: str, env: str, *, deadline: Deadline) -> Lock | None:
        self._answer()
        return self.locks.get(target_key(client, env))

    def release(self, lock: Lock, *, deadline: Deadline) -> bool:
        self._answer()
        with self._mutex:
            held = self.locks.get(lock.target)
            if held is None or held.holder != lock.holder or held.locked_at != lock.locked_at:
                return False
            del self.locks[lock.target]
            return True

    def active(self, *, now: int, deadline: Deadline) -> list[Lock]:
        self._answer()
        return sorted(
            (lock for lock in self.locks.values() if lock.active(now)), key=lambda lock: (lock.client, lock.env)
        )

    def _answer(self) -> None:
        if self.unavailable:
            raise LockStoreUnavailableError("the lock table did not answer (unavailable)")
