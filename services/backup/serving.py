"""The long-running loop: long-poll the queue, hand each message to the consumer, settle it; survive the queue.

Only `stop` (SIGTERM) ends it: queue failures are retried with capped backoff, and a message whose handling
crashed is released for another attempt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from services.backup.consumer import Disposition, handle_message
from services.backup.deps import BackupDeps
from services.backup.ports import QueueMessage
from shared.metrics import emit_quietly, unit_emission

logger = logging.getLogger(__name__)

UNIT = "backup"
"""The worker's `Unit` dimension in its `Errors` and `Retries` metrics (`shared.metrics`)."""


@dataclass(frozen=True)
class Backoff:
    """Capped exponential waits between attempts of a queue call that failed (endpoint gone, throttled, ...)."""

    first_seconds: float = 1.0
    max_seconds: float = 60.0

    def wait(self, attempt: int) -> float:
        return min(self.max_seconds, self.first_seconds * 2.0 ** (attempt - 1))


def serve(
    deps: BackupDeps,
    stop: threading.Event,
    *,
    wait_seconds: int = 20,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], object] | None = None,
) -> None:
    """Long-poll until `stop` is set; a job interrupted by `stop` goes back to the queue.

    `sleep` defaults to waiting on `stop`, so SIGTERM cuts a backoff short.
    """
    retry = _Retry(stop, backoff, sleep or stop.wait)
    while not stop.is_set():
        for message in retry("receive", lambda: deps.queue.receive(wait_seconds)) or []:
            _serve_one(message, deps, stop, retry)


def _serve_one(message: QueueMessage, deps: BackupDeps, stop: threading.Event, retry: _Retry) -> None:
    disposition = Disposition.RETRY
    if message.receive_count > 1:
        emit_quietly(deps.metrics, unit_emission(UNIT, "Retries"))
    if not stop.is_set():
        try:
            disposition = handle_message(message, deps, stop)
        except Exception:  # the bus refused the result, a bug, ...: the queue redelivers it, then its DLQ keeps it
            logger.exception("handling a message crashed; releasing it for another attempt")
            emit_quietly(deps.metrics, unit_emission(UNIT, "Errors"))
    # Past the visibility timeout the message is delivered again anyway: retrying longer than that is pointless.
    # Giving up on a delete means the job runs again (a backup is then reported, not redone).
    if disposition is Disposition.DONE:
        retry("delete", lambda: deps.queue.delete(message), budget_seconds=deps.visibility_timeout)
    elif disposition is Disposition.RETRY:
        retry("release", lambda: deps.queue.release(message), budget_seconds=deps.visibility_timeout)


@dataclass(frozen=True)
class _Retry:
    stop: threading.Event
    backoff: Backoff
    pause: Callable[[float], object]

    def __call__[T](self, name: str, call: Callable[[], T], *, budget_seconds: float | None = None) -> T | None:
        """`call()` until it succeeds, `stop` is set, or the waits would exceed `budget_seconds` (then None).

        One attempt is made even after `stop` (a message must still be released); only the retries stop.
        """
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                return call()
            except Exception as error:  # botocore raises many unrelated types; all mean "the queue is unreachable"
                wait = self.backoff.wait(attempt)
                if self.stop.is_set() or (budget_seconds is not None and waited + wait > budget_seconds):
                    logger.error("queue %s failed (attempt %d), giving up: %s", name, attempt, _describe(error))
                    return None
                logger.warning(
                    "queue %s failed (attempt %d): %s; retrying in %.1f s", name, attempt, _describe(error), wait
                )
                self.pause(wait)
                waited += wait
                if self.stop.is_set():
                    return None


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"
