"""The worker's message handling with fakes: what reaches the user when nothing real runs."""

from __future__ import annotations

import threading

from services.backup.connections import parse_url
from services.backup.jobs import JobSettings
from services.backup.ports import QueueMessage
from services.backup.worker import Disposition, WorkerDeps, handle_message
from shared.events.models import CommandRejected
from tests.support.backup import FakeQueue, request_message
from tests.support.fakes import RecordingPublisher


class EmptyStore:
    """A store with no backups and a free lock; anything else would be a bug in these tests."""

    def manifests(self, database: str) -> list[object]:
        return []

    def manifest(self, database: str, backup_id: str) -> None:
        return None

    def acquire_lock(self, database: str, owner: str) -> None:
        return None

    def release_lock(self, database: str) -> None:
        pass


def _deps(publisher: RecordingPublisher) -> WorkerDeps:
    return WorkerDeps(
        queue=FakeQueue(),
        store=EmptyStore(),  # type: ignore[arg-type]
        publisher=publisher,
        databases={"orders": parse_url("orders", "postgresql://postgres@127.0.0.1/orders")},
        settings=JobSettings(),
    )


def test_malformed_messages_are_dropped_without_a_result() -> None:
    publisher = RecordingPublisher()
    for body in ("not json", "[]", '{"detail": {"event": "Nope"}}'):
        assert handle_message(QueueMessage(body, "r"), _deps(publisher), threading.Event()) is Disposition.DONE
    assert publisher.events == []


def test_restoring_an_unknown_backup_is_rejected_with_a_pointer_to_the_list() -> None:
    publisher = RecordingPublisher()
    message = request_message("restore", db="orders", confirm="orders", **{"from": "orders-x"})
    handle_message(message, _deps(publisher), threading.Event())
    [rejected] = [e for e in publisher.events if isinstance(e, CommandRejected)]
    assert "no backup `orders-x`" in rejected.reason and "/ops backups --db orders" in rejected.hint


def test_an_unknown_database_is_rejected() -> None:
    publisher = RecordingPublisher()
    handle_message(request_message("backups", db="nope"), _deps(publisher), threading.Event())
    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected) and "`orders`" in rejected.hint
