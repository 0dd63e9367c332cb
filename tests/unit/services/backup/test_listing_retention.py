"""`backups` with a retention policy: why each backup is kept and until when at least, or that the next backup
prunes it; without a policy the listing is as it always was."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from services.backup.consumer import handle_message
from services.backup.job import Job
from services.backup.listing import list_backups
from services.backup.ports import BackupListing
from shared.config.backup import RetentionPolicy
from shared.events.models import CommandFailed, CommandSucceeded
from tests.support.backup import ORDERS, ScriptEngine, a_manifest, backup_deps, events_of, request_message
from tests.support.fakes import StaticConfig
from tests.support.fakes.backup import FakeBackupStore

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # a Sunday


def _store() -> FakeBackupStore:
    store = FakeBackupStore()
    for age in (0, 1, 2, 9):
        at = NOW - timedelta(days=age, hours=1)
        store.add(a_manifest(f"orders-{at:%m%d}", finished_at=at, created_by="U0ABC"))
    return store


def _listing(store: FakeBackupStore, policy: RetentionPolicy | None) -> str:
    job = Job(
        command_id="abc123abc123",
        requested_by="U0ABC",
        arguments={"db": "orders"},
        database=ORDERS,
        engine=ScriptEngine(),
        store=store,
        stop=threading.Event(),
        say=lambda _: None,
        now=lambda: NOW,
        retention=policy,
    )
    return list_backups(job).summary


def test_each_backup_says_which_rules_keep_it_and_until_when_at_least() -> None:
    listing = _listing(_store(), RetentionPolicy(keep_last=2, keep_daily=3))
    assert listing == (
        "4 backup(s) of `orders`, newest first (retention: keep_last 2, keep_daily 3):\n"
        "• `orders-1206` — 2.0 KiB, 2026-12-06 11:00 UTC, by <@U0ABC> — kept: newest, keep_last (#1 of 2), "
        "keep_daily (2026-12-06)\n"
        "• `orders-1205` — 2.0 KiB, 2026-12-05 11:00 UTC, by <@U0ABC> — kept: keep_last (#2 of 2), "
        "keep_daily (2026-12-05), until at least 2026-12-08 00:00 UTC\n"
        "• `orders-1204` — 2.0 KiB, 2026-12-04 11:00 UTC, by <@U0ABC> — kept: keep_daily (2026-12-04), "
        "until at least 2026-12-07 00:00 UTC\n"
        "• `orders-1127` — 2.0 KiB, 2026-11-27 11:00 UTC, by <@U0ABC> — "
        "*not kept by the retention policy: the next backup prunes it*"
    )


def test_the_policy_in_the_configuration_is_the_one_shown() -> None:
    store = _store()
    config = StaticConfig.from_text(
        "access:\n  - {command: '*'}\nbackup:\n  retention:\n    default: {keep_monthly: 6}\n"
    )
    deps = backup_deps(store=store, config=config)
    handle_message(request_message("backups", db="orders"), deps, threading.Event())
    [listed] = events_of(deps, CommandSucceeded)
    assert "newest first (retention: keep_monthly 6):" in listed.summary
    assert "— kept: newest, keep_monthly (2026-12)" in listed.summary  # this month's: no date is sure yet
    assert "— kept: keep_monthly (2026-11), until at least 2027-05-01 00:00 UTC" in listed.summary


def test_without_a_policy_the_listing_is_unchanged() -> None:
    listing = _listing(_store(), None)
    assert "retention" not in listing and "kept" not in listing
    assert listing.splitlines()[1] == "• `orders-1206` — 2.0 KiB, 2026-12-06 11:00 UTC, by <@U0ABC>"


class _PartialListing(FakeBackupStore):
    """Lists what it could before a page failed."""

    def list_backups(self, database: str) -> BackupListing:
        return BackupListing(self._listed(database)[:2], "listing page 2 failed (ClientError)")


def test_an_incomplete_listing_shows_what_it_found_says_so_and_leaves_retention_out() -> None:
    store = _PartialListing()
    for backup_id, manifest in _store().manifest_objects.items():
        store.manifest_objects[backup_id] = manifest
    listing = _listing(store, RetentionPolicy(keep_last=1))
    assert listing.startswith("2 backup(s) of `orders`, newest first:\n• `orders-1206`")
    assert "kept" not in listing and "not kept" not in listing
    assert listing.endswith(
        "\n*This list is incomplete*: listing page 2 failed (ClientError). Some backups may be missing from it; "
        "retention marks are left out (they need the whole list)."
    )


def test_a_listing_that_found_nothing_because_it_failed_fails() -> None:
    store = _store()
    store.fail("list_backups", ConnectionError())
    deps = backup_deps(store=store)
    handle_message(request_message("backups", db="orders"), deps, threading.Event())
    [failed] = events_of(deps, CommandFailed)
    assert failed.reason == (
        "The backups of `orders` could not be listed: listing page 1 failed (ConnectionError). Nothing was changed; "
        "try again (details in the backup worker's logs)."
    )


def test_a_backup_the_policy_lets_go_but_someone_reads_says_so() -> None:
    store = _store()
    store.start_reading("orders", "orders-1127", "f00dcafe1234")
    listing = _listing(store, RetentionPolicy(keep_last=2, keep_daily=3))
    assert listing.endswith(
        "• `orders-1127` — 2.0 KiB, 2026-11-27 11:00 UTC, by <@U0ABC> — *not kept by the retention policy*; command "
        "`f00dcafe1234` is reading it, so the first backup after that prunes it"
    )
    store.fail("readers", TimeoutError())
    assert _listing(store, RetentionPolicy(keep_last=2)).endswith("the next backup prunes it*")
