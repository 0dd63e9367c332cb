"""Slack's answers remembered for a while: what the group and name caches share.

Failures are not remembered: the next ask goes to Slack again (each bounded by the adapter's timeout). `ttl` is a
callable so the configuration's current value applies without rebuilding the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class Remembered[K: Hashable, V]:
    """`get(key, ask)`: the answer `ask()` gave for `key` less than `ttl()` seconds ago (on `clock`), else a new one."""

    def __init__(self, *, ttl: Callable[[], float], clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[K, tuple[float, V]] = {}

    def get(self, key: K, ask: Callable[[], V]) -> V:
        with self._lock:
            cached = self._answers.get(key)
        if cached is not None and self._clock() - cached[0] < self._ttl():
            return cached[1]
        found = ask()
        with self._lock:
            self._answers[key] = (self._clock(), found)
        return found
