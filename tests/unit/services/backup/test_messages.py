"""Backup summaries and refusals escape what they quote once (backup ids typed by users, names, errors)."""

from __future__ import annotations

import threading

from services.backup import messages
from services.backup.consumer import handle_message
from services.backup.models import RestoreRecord
from services.notifier.messages import format_event
from shared.events.models import ResultEvent
from tests.support.backup import ORDERS, T0, a_manifest, backup_deps, published, request_message
from tests.support.fakes.backup import FakeBackupStore
from tests.support.mrkdwn import HOSTILE, check_message, shows_once

COMMAND_ID = "abc123def456"


def _store(
    *, lock_holder: str | None = None, failure: Exception | None = None, restored: bool = False
) -> FakeBackupStore:
    """One backup with hostile text in it; `restored`: the command has restored it already."""
    store = FakeBackupStore().add(a_manifest(HOSTILE, created_by=HOSTILE))
    if lock_holder is not None:
        store.hold_lock("orders", lock_holder)
    if failure is not None:
        store.fail("exists", failure)  # `backups` crashes after listing (a listing that fails is said, not crashed)
    if restored:
        record = RestoreRecord(
            command_id=COMMAND_ID,
            database="orders",
            backup_id=HOSTILE,
            restored_by=HOSTILE,
            started_at=T0,
            finished_at=T0,
        )
        store.put_restore_record(record)
    return store


def _shown(command: str, store: FakeBackupStore, **arguments: object) -> list[str]:
    deps = backup_deps(store=store)
    handle_message(request_message(command, command_id=COMMAND_ID, **arguments), deps, threading.Event())
    events = [event for event in published(deps) if isinstance(event, ResultEvent)]
    return [check_message(format_event(event)) for event in events]


def test_the_list_of_backups_shows_ids_and_users_escaped_once() -> None:
    *_, listing = _shown("backups", _store(), db="orders")
    assert shows_once(listing) and "1 backup(s) of `orders`" in listing


def test_an_unknown_backup_typed_by_the_user_is_quoted_escaped_once() -> None:
    [refusal] = _shown("restore", _store(), db="orders", confirm="orders", **{"from": HOSTILE + "x"})
    assert "There is no backup `" in refusal and "&lt;b&gt;&amp;amp; a&amp;b" in refusal and "<!channel>" not in refusal


def test_the_restore_confirmation_quotes_the_backup_and_its_author_escaped_once() -> None:
    [refusal] = _shown("restore", _store(), db="orders", **{"from": HOSTILE})
    assert shows_once(refusal) and "Nothing was changed." in refusal


def test_a_restore_already_done_by_the_command_quotes_the_backup_escaped_once() -> None:
    *_, already = _shown("restore", _store(restored=True), db="orders", confirm="orders", **{"from": HOSTILE})
    assert shows_once(already) and "already restored from `" in already and "not restored again" in already


def test_a_busy_database_and_an_unexpected_error_are_escaped_once() -> None:
    busy = _shown("restore", _store(lock_holder=HOSTILE), db="orders", confirm="orders", **{"from": HOSTILE})
    assert shows_once(busy[-1]) and "is busy" in busy[-1]
    crashed = _shown("backups", _store(failure=RuntimeError(HOSTILE)), db="orders")
    assert shows_once(crashed[-1]) and "Unexpected error (RuntimeError: " in crashed[-1]


def test_an_unknown_database_is_quoted() -> None:
    [refusal] = _shown("backups", _store(), db="nope")
    assert "`nope` is not a database slashops backs up." in refusal and "`orders`" in refusal


def test_a_command_without_its_own_start_wording_still_starts_with_a_true_message() -> None:
    assert messages.started("backup-count", ORDERS) == "Running `backup-count` on `orders` (postgresql)…"
    assert messages.started("backup", ORDERS) == "Backing up `orders` (postgresql)…"


def test_who_took_a_backup_is_a_mention_when_it_is_a_user_id_and_escaped_text_otherwise() -> None:
    by_id = messages.listed(a_manifest(created_by="U0ALICE"))
    by_name = messages.listed(a_manifest(created_by="<!channel>"))
    assert "by <@U0ALICE>" in by_id and "&lt;@" not in by_id
    assert "by &lt;!channel&gt;" in by_name
