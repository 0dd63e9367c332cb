"""A time budget for a whole request, and a way to stop waiting for a blocking call when it runs out.

Slack shows `operation_timeout` if the answer takes more than 3 s, whatever the reason. Per-call timeouts do not
add up to a bound (3 attempts x 2 tries x 2 s was 12 s); one deadline passed down to every call does.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class DeadlineExceededError(Exception):
    """The budget ran out before the call answered; the call itself may still complete later."""


@dataclass(frozen=True)
class Deadline:
    """A point in time on a monotonic clock; `remaining()` is what every call may still spend."""

    at: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def at_least(self, seconds: float) -> Deadline:
        """This deadline, or `seconds` from now if that is later: for a step that must run even when late."""
        return Deadline(max(self.at, self.clock() + seconds), self.clock)

    def within(self, seconds: float) -> Deadline:
        """A sub-budget for one step: `seconds` from now, never later than this deadline."""
        return Deadline(min(self.at, self.clock() + seconds), self.clock)


def run_within[T](deadline: Deadline, call: Callable[[], T]) -> T:
    """`call()`'s result or exception, or `DeadlineExceededError` once the deadline passes.

    The call runs in a daemon thread because Python cannot interrupt a blocking socket read (DNS, a server that
    trickles bytes): the caller stops waiting at the deadline, and the call finishes or fails on its own later,
    unobserved. So a caller must treat `DeadlineExceededError` as "may still happen", never as "did not happen".
    """
    results: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=1)

    def target() -> None:
        try:
            results.put((True, call()))
        except BaseException as error:  # handed to the waiting caller, re-raised there
            results.put((False, error))

    threading.Thread(target=target, name="slashops-deadline", daemon=True).start()
    try:
        succeeded, value = results.get(timeout=deadline.remaining())
    except queue.Empty:
        raise DeadlineExceededError(f"no answer within the time budget ({deadline.remaining():.2f}s left)") from None
    if succeeded:
        return value  # type: ignore[return-value]
    assert isinstance(value, BaseException)
    raise value
