"""A time budget for a whole request, and a way to stop waiting for a blocking call when it runs out.

Slack shows `operation_timeout` if the answer takes more than 3 s, whatever the reason. Per-call timeouts do not
add up to a bound (3 attempts x 2 tries x 2 s was 12 s); one deadline passed down to every call does.
"""

from __future__ import annotations

import contextvars
import os
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

    def short_of(self, seconds: float) -> Deadline:
        """`seconds` before this deadline: for a step that must leave that much to the steps after it."""
        return Deadline(self.at - seconds, self.clock)


def run_within[T](deadline: Deadline, call: Callable[[], T], *, bounded_by: float | None = None) -> T:
    """`call()`'s result or exception, or `DeadlineExceededError` once the deadline passes.

    The call runs in a daemon thread because Python cannot interrupt a blocking socket read (DNS, a server that
    trickles bytes): the caller stops waiting at the deadline, and the call finishes or fails on its own later,
    unobserved. So a caller must treat `DeadlineExceededError` as "may still happen", never as "did not happen".
    Threads are reused (`_WORKERS`): starting one costs more than most calls it guards.

    `bounded_by`: the most the call can take by its own socket timeouts (`shared.aws.clients.bounded_seconds`).
    When the deadline leaves that much, the call runs here, on the caller's thread: its timeouts end it in time,
    and a request does not pay for handing the call to a thread and back (under load, a wait for a CPU each way).
    """
    if bounded_by is not None and bounded_by <= deadline.remaining():
        return call()
    return start_within(deadline, call).result()


def ask_within[T](
    deadline: Deadline | None,
    call: Callable[[], T],
    *,
    at_least: float,
    unavailable: Callable[[str], Exception],
    whom: str,
) -> T:
    """`call()` within the request's budget (none: as long as it takes). Less than `at_least` seconds left, `whom`
    is not asked at all; one that answers too late counts as one that could not be asked: both raise
    `unavailable(why)`, the port's own error, so a caller handles a slow dependency as an unreachable one."""
    if deadline is None:
        return call()
    if deadline.remaining() < at_least:
        raise unavailable(f"no time left to ask {whom} within the answer budget")
    try:
        return run_within(deadline, call)
    except DeadlineExceededError as error:
        raise unavailable(f"{whom} did not answer within the answer budget") from error


def start_within[T](deadline: Deadline, call: Callable[[], T]) -> Pending[T]:
    """`call()` started now in a worker thread, for a caller with something else to do meanwhile: two calls that
    do not depend on each other then share the time they are given instead of each taking a slice of it.

    `Pending.result()` waits for it as `run_within` does (until `deadline`), with the same caveat.
    """
    results: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()

    def job() -> None:
        try:
            results.put((True, contextvars.Context().run(call)))  # a fresh context, as a new thread would have
        except BaseException as error:  # handed to the waiting caller, re-raised there
            results.put((False, error))

    _WORKERS.run(job)
    return Pending(deadline, results)


class Pending[T]:
    """A call `start_within` started; its outcome is read once, by `result()`."""

    def __init__(self, deadline: Deadline, results: queue.SimpleQueue[tuple[bool, object]]) -> None:
        self._deadline = deadline
        self._results = results

    def result(self) -> T:
        """The call's result or exception, or `DeadlineExceededError` once the deadline passes."""
        try:
            succeeded, value = self._results.get(timeout=self._deadline.remaining())
        except queue.Empty:
            remaining = self._deadline.remaining()
            raise DeadlineExceededError(f"no answer within the time budget ({remaining:.2f}s left)") from None
        if succeeded:
            return value  # type: ignore[return-value]
        assert isinstance(value, BaseException)
        raise value


class _Workers:
    """Idle daemon threads, each waiting on its own inbox for one job at a time.

    A job goes to an idle thread, or to a new one when none is idle: a call that hangs keeps its thread and never
    delays another call. A thread idle for `idle_seconds` ends. After a fork the child starts with none.
    """

    def __init__(self, idle_seconds: float = 60.0) -> None:
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Callable[[], None]]] = []

    def run(self, job: Callable[[], None]) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name="slashops-deadline", daemon=True).start()
        inbox.put(job)

    def _serve(self, inbox: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            try:
                job = inbox.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:  # else a caller has just taken it and is putting a job in
                        self._idle.remove(inbox)
                        return
                continue
            job()  # never raises: `run_within`'s job hands every outcome to its caller
            with self._lock:
                self._idle.append(inbox)

    def forget_after_fork(self) -> None:
        self._lock = threading.Lock()
        self._idle = []


_WORKERS = _Workers()
os.register_at_fork(after_in_child=_WORKERS.forget_after_fork)
