"""`backups` on the fakes: newest first, at most 20, and a backup whose data is gone is marked."""

from __future__ import annotations

import threading
from datetime import timedelta

from services.backup.consumer import handle_message
from shared.events.models import CommandSucceeded
from tests.support.backup import T0, a_manifest, backup_deps, events_of, request_message
from tests.support.fakes.backup import FakeBackupStore


def _listing(store: FakeBackupStore) -> str:
    deps = backup_deps(store=store)
    handle_message(request_message("backups", db="orders"), deps, threading.Event())
    [listed] = events_of(deps, CommandSucceeded)
    return listed.summary


def test_backups_are_listed_newest_first() -> None:
    older = a_manifest("orders-older", finished_at=T0)
    newer = a_manifest("orders-newer", finished_at=T0 + timedelta(hours=1), size_bytes=3 * 1024 * 1024)
    listing = _listing(FakeBackupStore().add(older).add(newer))
    assert listing == (
        "2 backup(s) of `orders`, newest first:\n"
        "• `orders-newer` — 3.0 MiB, 2026-11-28 11:15 UTC, by example.user\n"
        "• `orders-older` — 2.0 KiB, 2026-11-28 10:15 UTC, by example.user"
    )


def test_the_listing_marks_a_backup_whose_data_is_gone() -> None:
    listing = _listing(FakeBackupStore().add(a_manifest(), data=None))
    assert listing.endswith(" — *data missing from the bucket, cannot be restored*")


def test_only_the_newest_twenty_are_listed() -> None:
    store = FakeBackupStore()
    for hour in range(23):
        store.add(a_manifest(f"orders-{hour:02d}", finished_at=T0 + timedelta(hours=hour)))
    listing = _listing(store)
    assert listing.startswith("23 backup(s)") and listing.endswith("\n…and 3 older.")
    assert "`orders-22`" in listing and "`orders-02`" not in listing
