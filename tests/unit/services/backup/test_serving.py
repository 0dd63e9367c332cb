"""The worker's loop with fakes: queue failures are retried with capped backoff, never end it; only `stop` does."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import EndpointConnectionError

from services.backup.connections import parse_url
from services.backup.jobs import JobSettings
from services.backup.ports import QueueMessage
from services.backup.worker import Backoff, WorkerDeps, serve
from shared.events.models import CommandSucceeded, Event
from tests.support.backup import open_config, request_message
from tests.support.fakes import RecordingPublisher

GONE = EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/")


@dataclass
class FlakyQueue:
    """An SQS queue whose endpoint is gone for the first `receive_failures` receives (and `delete_failures`...)."""

    messages: list[QueueMessage]
    stop: threading.Event
    receive_failures: int = 0
    delete_failures: int = 0
    release_failures: int = 0
    deleted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    receives: int = 0

    def receive(self, wait_seconds: int) -> list[QueueMessage]:
        self.receives += 1
        if self.receive_failures:
            self.receive_failures -= 1
            raise GONE
        if not self.messages:
            self.stop.set()  # drained: the test is over
            return []
        return [self.messages.pop(0)]

    def delete(self, message: QueueMessage) -> None:
        if self.delete_failures:
            self.delete_failures -= 1
            raise GONE
        self.deleted.append(message.receipt_handle)

    def extend(self, message: QueueMessage, seconds: int) -> None:
        pass

    def release(self, message: QueueMessage) -> None:
        if self.release_failures:
            self.release_failures -= 1
            raise GONE
        self.released.append(message.receipt_handle)


class ListingStore:
    def manifests(self, database: str) -> list[object]:
        return []

    def acquire_lock(self, database: str, owner: str) -> str | None:
        return f"backup {LOCK_HOLDER} on worker-2"


LOCK_HOLDER = "0123456789ab"


class BrokenBus:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.events: list[Event] = []

    def publish(self, events: list[Event]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("bus unreachable")
        self.events.extend(events)


def test_a_duplicate_of_the_command_holding_the_lock_is_neither_deleted_nor_released() -> None:
    """It comes back after its visibility timeout, once the running delivery has finished and reported."""
    stop, publisher = threading.Event(), RecordingPublisher()
    duplicate = request_message("backup", "r-1", db="orders", command_id=LOCK_HOLDER)
    queue = FlakyQueue([duplicate], stop)

    serve(_deps(queue, publisher), stop, wait_seconds=0, sleep=lambda seconds: None)

    assert queue.deleted == [] and queue.released == [] and publisher.events == []


def _deps(queue: FlakyQueue, publisher: object) -> WorkerDeps:
    return WorkerDeps(
        queue=queue,
        store=ListingStore(),  # type: ignore[arg-type]
        publisher=publisher,  # type: ignore[arg-type]
        databases={"orders": parse_url("orders", "postgresql://postgres@127.0.0.1/orders")},
        settings=JobSettings(),
        config=open_config(),
        visibility_timeout=120,
    )


def test_receive_failures_are_retried_with_capped_backoff_and_the_next_message_is_processed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop, waits, publisher = threading.Event(), [], RecordingPublisher()
    queue = FlakyQueue([request_message("backups", "r-1", db="orders")], stop, receive_failures=5)

    with caplog.at_level(logging.WARNING, logger="services.backup.worker"):
        serve(_deps(queue, publisher), stop, wait_seconds=0, backoff=Backoff(1, 4), sleep=waits.append)

    assert waits == [1, 2, 4, 4, 4]
    assert queue.deleted == ["r-1"]
    assert any(isinstance(event, CommandSucceeded) for event in publisher.events)
    assert "queue receive failed (attempt 5): EndpointConnectionError" in caplog.text
    assert "retrying in 4.0 s" in caplog.text


def test_a_failed_delete_is_retried_until_it_succeeds() -> None:
    stop, waits = threading.Event(), []
    queue = FlakyQueue([request_message("backups", "r-1", db="orders")], stop, delete_failures=2)

    serve(_deps(queue, RecordingPublisher()), stop, wait_seconds=0, sleep=waits.append)

    assert queue.deleted == ["r-1"] and waits == [1, 2]


def test_a_delete_that_keeps_failing_is_given_up_within_the_visibility_timeout_and_the_loop_goes_on() -> None:
    stop, waits = threading.Event(), []
    queue = FlakyQueue(
        [request_message("backups", "r-1", db="orders"), request_message("backups", "r-2", db="orders")],
        stop,
        delete_failures=50,
    )

    serve(_deps(queue, RecordingPublisher()), stop, wait_seconds=0, backoff=Backoff(1, 60), sleep=waits.append)

    # 1+2+4+8+16+32 = 63 s; the next wait (60 s) would pass the 120 s visibility timeout: SQS redelivers it anyway
    assert waits == [1, 2, 4, 8, 16, 32] * 2
    assert queue.receives == 3  # back to the queue after giving up on each delete
    assert queue.deleted == []


def test_a_message_whose_handling_crashes_is_released_and_the_worker_goes_on() -> None:
    stop, waits = threading.Event(), []
    bus = BrokenBus(failures=2)  # CommandAccepted, then the CommandFailed about it: both refused
    queue = FlakyQueue(
        [request_message("backups", "r-1", db="orders"), request_message("backups", "r-2", db="orders")],
        stop,
        release_failures=1,
    )

    serve(_deps(queue, bus), stop, wait_seconds=0, sleep=waits.append)

    assert queue.released == ["r-1"] and waits == [1]
    assert queue.deleted == ["r-2"]
    assert any(isinstance(event, CommandSucceeded) for event in bus.events)


def test_stop_ends_a_backoff_at_once() -> None:
    stop = threading.Event()
    queue = FlakyQueue([], stop, receive_failures=1000)
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 3:
            stop.set()

    serve(_deps(queue, RecordingPublisher()), stop, wait_seconds=0, sleep=sleep)

    assert queue.receives == 3
