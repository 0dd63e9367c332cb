"""Backup summaries and refusals escape what they quote once (backup ids typed by users, names, errors)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from services.backup.connections import parse_url
from services.backup.jobs import JobSettings
from services.backup.models import Manifest, RestoreRecord
from services.backup.worker import WorkerDeps, handle_message
from services.notifier.messages import format_event
from shared.events.models import ResultEvent
from tests.support.backup import FakeQueue, open_config, request_message
from tests.support.fakes import RecordingPublisher
from tests.support.mrkdwn import HOSTILE, check_message, shows_once

T0 = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)


class Store:
    """One backup with hostile text in it; listing and locking work, anything else raises `failure`.

    `restored` is the restore record every command finds (None: nothing was restored yet).
    """

    def __init__(
        self, *, lock_holder: str | None = None, failure: Exception | None = None, restored: bool = False
    ) -> None:
        self.lock_holder = lock_holder
        self.failure = failure
        self.saved = Manifest(
            backup_id=HOSTILE,
            database="orders",
            engine="postgres",
            server_version="16",
            object_key="k",
            size_bytes=2048,
            sha256="0" * 64,
            created_by=HOSTILE,
            command_id="abc123def456",
            started_at=T0,
            finished_at=T0,
        )
        self.restored = restored

    def manifests(self, database: str) -> list[Manifest]:
        if self.failure:
            raise self.failure
        return [self.saved]

    def manifest(self, database: str, backup_id: str) -> Manifest | None:
        return self.saved if backup_id == self.saved.backup_id else None

    def exists(self, key: str) -> bool:
        return True

    def restore_record(self, database: str, command_id: str) -> RestoreRecord | None:
        if not self.restored:
            return None
        return RestoreRecord(
            command_id=command_id,
            database=database,
            backup_id=self.saved.backup_id,
            restored_by=HOSTILE,
            started_at=T0,
            finished_at=T0,
        )

    def put_restore_record(self, record: RestoreRecord) -> None:
        raise AssertionError("nothing is restored in these tests")

    def acquire_lock(self, database: str, owner: str) -> str | None:
        return self.lock_holder

    def release_lock(self, database: str) -> None:
        pass


def _shown(command: str, store: Store, **arguments: object) -> list[str]:
    publisher = RecordingPublisher()
    deps = WorkerDeps(
        queue=FakeQueue(),
        store=store,  # type: ignore[arg-type]
        publisher=publisher,
        databases={"orders": parse_url("orders", "postgresql://postgres@127.0.0.1/orders")},
        settings=JobSettings(),
        config=open_config(),
    )
    handle_message(request_message(command, **arguments), deps, threading.Event())
    events = [event for event in publisher.events if isinstance(event, ResultEvent)]
    return [check_message(format_event(event)) for event in events]


def test_the_list_of_backups_shows_ids_and_users_escaped_once() -> None:
    *_, listing = _shown("backups", Store(), db="orders")
    assert shows_once(listing) and "1 backup(s) of `orders`" in listing


def test_an_unknown_backup_typed_by_the_user_is_quoted_escaped_once() -> None:
    [refusal] = _shown("restore", Store(), db="orders", confirm="orders", **{"from": HOSTILE + "x"})
    assert "There is no backup `" in refusal and "&lt;b&gt;&amp;amp; a&amp;b" in refusal and "<!channel>" not in refusal


def test_the_restore_confirmation_quotes_the_backup_and_its_author_escaped_once() -> None:
    [refusal] = _shown("restore", Store(), db="orders", **{"from": HOSTILE})
    assert shows_once(refusal) and "Nothing was changed." in refusal


def test_a_restore_already_done_by_the_command_quotes_the_backup_escaped_once() -> None:
    *_, already = _shown("restore", Store(restored=True), db="orders", confirm="orders", **{"from": HOSTILE})
    assert shows_once(already) and "already restored from `" in already and "not restored again" in already


def test_a_busy_database_and_an_unexpected_error_are_escaped_once() -> None:
    busy = _shown("restore", Store(lock_holder=HOSTILE), db="orders", confirm="orders", **{"from": HOSTILE})
    assert shows_once(busy[-1]) and "is busy" in busy[-1]
    crashed = _shown("backups", Store(failure=RuntimeError(HOSTILE)), db="orders")
    assert shows_once(crashed[-1]) and "Unexpected error (RuntimeError: " in crashed[-1]


def test_an_unknown_database_is_quoted() -> None:
    [refusal] = _shown("backups", Store(), db="nope")
    assert "`nope` is not a database slashops backs up." in refusal and "`orders`" in refusal
