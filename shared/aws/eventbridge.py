"""EventBridge adapter for `EventPublisher`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from shared.aws.clients import ClientLimits, LazyClient, aws_client, bounded_seconds
from shared.deadline import Deadline, DeadlineExceededError, run_within
from shared.events.envelope import to_put_events_entry
from shared.events.publisher import NotPublishedError, PublishOutcomeUnknownError
from shared.events.requested import Event

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

logger = logging.getLogger(__name__)
MAX_ENTRIES_PER_CALL = 10
MIN_ATTEMPT_SECONDS = 0.2
"""Below this much time left, another attempt could not get an answer in time: stop instead."""


class EventBridgePublisher:
    """Publishes with `PutEvents`, retrying only the entries that failed (`FailedEntryCount`).

    A retry re-sends the *same* entries, with the same command ids, even after an attempt whose outcome is unknown
    (timed out after sending): that is safe only because every consumer de-duplicates on the command id, so an
    event delivered twice runs once. Never give a retry a new id.

    With a deadline, attempts (and their waits) stop when it passes. The client is built on first use, with
    short timeouts and no hidden botocore retries (they multiplied the attempts: 3 x 2 tries x 2 s = 12 s).
    An attempt runs on the caller's thread when those timeouts end it before the deadline (`run_within`'s
    `bounded_by`); only an attempt with less time left than that is handed to a deadline's worker thread.
    """

    client: LazyClient[EventBridgeClient] = LazyClient(lambda publisher: aws_client("events", publisher.limits))

    def __init__(
        self,
        bus_name: str,
        source: str,
        *,
        client: EventBridgeClient | None = None,
        attempts: int = 3,
        backoff_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
    ) -> None:
        self.bus_name = bus_name
        self.source = source
        # One try per call: this publisher decides about retries, within its deadline.
        self.limits = ClientLimits(connect_timeout, read_timeout, total_max_attempts=1)
        self.client = client
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._bound_of: object = None
        self._bound: float | None = None

    def publish(self, events: Sequence[Event], *, deadline: Deadline | None = None) -> None:
        for start in range(0, len(events), MAX_ENTRIES_PER_CALL):
            self._publish_batch(list(events[start : start + MAX_ENTRIES_PER_CALL]), deadline)

    def _publish_batch(self, events: list[Event], deadline: Deadline | None) -> None:
        pending = [to_put_events_entry(e, source=self.source, bus_name=self.bus_name) for e in events]
        maybe_sent, last_problem = False, "no attempt made"
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            if deadline is not None and deadline.remaining() < MIN_ATTEMPT_SECONDS:
                last_problem = f"out of time after {attempt} attempt(s); last problem: {last_problem}"
                break
            try:
                response = self._put(pending, deadline)
            except Exception as error:  # botocore raises many unrelated types; all mean "retry"
                maybe_sent = maybe_sent or may_have_landed(error)
                last_problem = f"{type(error).__name__}: {error}"
                logger.warning("PutEvents failed (attempt %d): %s", attempt + 1, last_problem)
                continue
            pending, last_problem = _failed_entries(pending, response)
            if not pending:
                return
            logger.warning("PutEvents left %d entries (attempt %d): %s", len(pending), attempt + 1, last_problem)
        if maybe_sent:
            raise PublishOutcomeUnknownError(f"{len(pending)} event(s) may or may not be on the bus: {last_problem}")
        raise NotPublishedError(f"{len(pending)} event(s) not published: {last_problem}")

    def _put(self, entries: list[dict[str, str]], deadline: Deadline | None) -> Any:
        if deadline is None:
            return self.client.put_events(Entries=entries)  # type: ignore[arg-type]
        client = self.client  # built here, not in the thread, so a slow first build counts once
        bound = self._bound if self._bound_of is client else self._bind(client)
        return run_within(deadline, lambda: client.put_events(Entries=entries), bounded_by=bound)  # type: ignore[arg-type]

    def _bind(self, client: EventBridgeClient) -> float | None:
        """What one `PutEvents` on `client` can take by its own timeouts (read once per client, not per call)."""
        self._bound_of, self._bound = client, bounded_seconds(client)
        return self._bound


def may_have_landed(error: BaseException) -> bool:
    """False only when the request cannot have reached EventBridge, or EventBridge refused all of it.

    Could not connect (refused, DNS, connect timeout, proxy), the client refused to send (credentials, parameters),
    or a 4xx answer: not sent. A read timeout, a dropped connection, a 5xx, the deadline, or anything unfamiliar:
    the request may have been accepted.
    """
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
        ProxyConnectionError,
    )

    if isinstance(error, DeadlineExceededError):
        return True
    if isinstance(error, ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)) >= 500
    not_sent = (
        EndpointConnectionError,
        ConnectTimeoutError,
        ProxyConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
    )
    return not isinstance(error, not_sent)


def _failed_entries(sent: list[dict[str, str]], response: Any) -> tuple[list[dict[str, str]], str]:
    if not response.get("FailedEntryCount"):
        return [], ""
    failed, problems = [], set()
    for entry, result in zip(sent, response.get("Entries", []), strict=False):
        if result.get("ErrorCode"):
            failed.append(entry)
            problems.add(f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}")
    return failed or sent, "; ".join(sorted(problems)) or "FailedEntryCount without entry errors"
