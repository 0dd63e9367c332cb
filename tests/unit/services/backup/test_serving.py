"""The serving loop on the fakes: queue failures are retried with capped backoff, never end it; only `stop` does."""

from __future__ import annotations

import logging
import threading

import pytest

from services.backup.serving import Backoff, serve
from shared.events.models import CommandSucceeded, Event
from tests.support.backup import backup_deps, published, request_message
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.backup import FakeBackupStore, FakeJobQueue
from tests.support.fakes.metrics import RecordingMetrics

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


def _queue(
    stop: threading.Event,
    *receipts: str,
    receive_failures: int = 0,
    delete_failures: int = 0,
    release_failures: int = 0,
) -> FakeJobQueue:
    """Listings to serve; the loop ends once they are drained."""
    return FakeJobQueue(
        [request_message("backups", receipt, db="orders") for receipt in receipts],
        stop_when_empty=stop,
        receive_failures=receive_failures,
        delete_failures=delete_failures,
        release_failures=release_failures,
    )


def test_a_duplicate_of_the_command_holding_the_lock_is_neither_deleted_nor_released() -> None:
    """It comes back after its visibility timeout, once the running delivery has finished and reported."""
    stop, store = threading.Event(), FakeBackupStore()
    store.hold_lock("orders", f"backup {LOCK_HOLDER} on worker-2")
    queue = FakeJobQueue([request_message("backup", "r-1", db="orders", command_id=LOCK_HOLDER)], stop_when_empty=stop)
    deps = backup_deps(queue=queue, store=store)

    serve(deps, stop, wait_seconds=0, sleep=lambda seconds: None)

    assert queue.deleted == [] and queue.released == [] and published(deps) == []


def test_receive_failures_are_retried_with_capped_backoff_and_the_next_message_is_processed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop, waits = threading.Event(), []
    queue = _queue(stop, "r-1", receive_failures=5)
    deps = backup_deps(queue=queue)

    with caplog.at_level(logging.WARNING, logger="services.backup.serving"):
        serve(deps, stop, wait_seconds=0, backoff=Backoff(1, 4), sleep=waits.append)

    assert waits == [1, 2, 4, 4, 4]
    assert queue.deleted == ["r-1"]
    assert any(isinstance(event, CommandSucceeded) for event in published(deps))
    assert "queue receive failed (attempt 5): EndpointConnectionError" in caplog.text
    assert "retrying in 4.0 s" in caplog.text


def test_a_failed_delete_is_retried_until_it_succeeds() -> None:
    stop, waits = threading.Event(), []
    queue = _queue(stop, "r-1", delete_failures=2)

    serve(backup_deps(queue=queue), stop, wait_seconds=0, sleep=waits.append)

    assert queue.deleted == ["r-1"] and waits == [1, 2]


def test_a_delete_that_keeps_failing_is_given_up_within_the_visibility_timeout_and_the_loop_goes_on() -> None:
    stop, waits = threading.Event(), []
    queue = _queue(stop, "r-1", "r-2", delete_failures=50)

    serve(backup_deps(queue=queue), stop, wait_seconds=0, backoff=Backoff(1, 60), sleep=waits.append)

    # 1+2+4+8+16+32 = 63 s; the next wait (60 s) would pass the 120 s visibility timeout: SQS redelivers it anyway
    assert waits == [1, 2, 4, 8, 16, 32] * 2
    assert queue.receives == 3  # back to the queue after giving up on each delete
    assert queue.deleted == []


def test_a_message_whose_handling_crashes_is_released_and_the_worker_goes_on() -> None:
    stop, waits = threading.Event(), []
    bus = BrokenBus(failures=2)  # CommandAccepted, then the CommandFailed about it: both refused
    queue = _queue(stop, "r-1", "r-2", release_failures=1)

    serve(backup_deps(queue=queue, publisher=bus), stop, wait_seconds=0, sleep=waits.append)

    assert queue.released == ["r-1"] and waits == [1]
    assert queue.deleted == ["r-2", "r-1"]  # released, so delivered again after r-2, and served then
    assert sum(isinstance(event, CommandSucceeded) for event in bus.events) == 2


def test_stop_ends_a_backoff_at_once() -> None:
    stop = threading.Event()
    queue = FakeJobQueue(receive_failures=1000)
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 3:
            stop.set()

    serve(backup_deps(queue=queue, publisher=RecordingPublisher()), stop, wait_seconds=0, sleep=sleep)

    assert queue.receives == 3


def test_a_crash_counts_as_an_error_of_the_backup_unit_and_its_redelivery_as_a_retry() -> None:
    stop, metrics = threading.Event(), RecordingMetrics()
    queue = _queue(stop, "r-1")

    serve(backup_deps(queue=queue, publisher=BrokenBus(failures=2), metrics=metrics), stop, wait_seconds=0)

    assert metrics.total("Errors", Unit="backup") == 1
    assert metrics.total("Retries", Unit="backup") == 1  # released, then served again
