"""EventBridge adapter for `EventPublisher`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from shared.events.envelope import to_put_events_entry
from shared.events.models import Event
from shared.events.publisher import PublishError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

logger = logging.getLogger(__name__)
MAX_ENTRIES_PER_CALL = 10


class EventBridgePublisher:
    """Publishes with `PutEvents`, retrying only the entries that failed (`FailedEntryCount`).

    The client is built on first use, with short timeouts: the ingress must answer Slack within 3 s.
    """

    def __init__(
        self,
        bus_name: str,
        source: str,
        *,
        client: EventBridgeClient | None = None,
        attempts: int = 3,
        backoff_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bus_name = bus_name
        self.source = source
        self._client = client
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep

    @property
    def client(self) -> EventBridgeClient:
        if self._client is None:
            self._client = build_events_client()
        return self._client

    def publish(self, events: Sequence[Event]) -> None:
        for start in range(0, len(events), MAX_ENTRIES_PER_CALL):
            self._publish_batch(list(events[start : start + MAX_ENTRIES_PER_CALL]))

    def _publish_batch(self, events: list[Event]) -> None:
        pending = [to_put_events_entry(e, source=self.source, bus_name=self.bus_name) for e in events]
        last_problem = "no attempt made"
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            try:
                response = self.client.put_events(Entries=pending)  # type: ignore[arg-type]
            except Exception as error:  # botocore raises many unrelated types; all mean "retry"
                last_problem = f"{type(error).__name__}: {error}"
                logger.warning("PutEvents failed (attempt %d): %s", attempt + 1, last_problem)
                continue
            pending, last_problem = _failed_entries(pending, response)
            if not pending:
                return
            logger.warning("PutEvents left %d entries (attempt %d): %s", len(pending), attempt + 1, last_problem)
        raise PublishError(f"{len(pending)} event(s) not published: {last_problem}")


def _failed_entries(sent: list[dict[str, str]], response: Any) -> tuple[list[dict[str, str]], str]:
    if not response.get("FailedEntryCount"):
        return [], ""
    failed, problems = [], set()
    for entry, result in zip(sent, response.get("Entries", []), strict=False):
        if result.get("ErrorCode"):
            failed.append(entry)
            problems.add(f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}")
    return failed or sent, "; ".join(sorted(problems)) or "FailedEntryCount without entry errors"


def build_events_client() -> EventBridgeClient:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client("events", config=config)
