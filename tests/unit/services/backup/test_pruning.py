"""Pruning after a backup, on the fakes: exactly what the policy lets go, only in that database, never what is being
read, nothing at all when the listing cannot be trusted; the backup's result names what was pruned."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from services.backup.consumer import handle_message
from services.backup.deps import BackupDeps, log_startup_problems
from services.backup.models import Manifest
from services.backup.ports import BackupListing
from services.backup.reading import reading
from shared.events.models import CommandSucceeded
from tests.support.backup import ORDERS, ScriptEngine, a_manifest, backup_deps, events_of, request_message
from tests.support.fakes import StaticConfig
from tests.support.fakes.backup import FakeBackupStore

NOW = datetime.now(UTC)  # the stand-in dump finishes now, by the real clock


def _config(retention: str) -> StaticConfig:
    return StaticConfig.from_text(f"access:\n  - {{command: '*'}}\nbackup:\n  retention:\n    {retention}\n")


def _history(store: FakeBackupStore, database: str = "orders", days: int = 5) -> list[Manifest]:
    """One backup a day for `days` days before today, oldest first."""
    made = []
    for age in range(days, 0, -1):
        manifest = a_manifest(
            f"{database}-day{age}", database=database, finished_at=NOW - timedelta(days=age), command_id=f"cmd{age:09d}"
        )
        store.add(manifest, data=b"old dump")
        made.append(manifest)
    return made


def _back_up(store: FakeBackupStore, retention: str = "orders: {keep_last: 3}") -> tuple[BackupDeps, str]:
    deps = backup_deps(store=store, engines={"postgresql": ScriptEngine()}, config=_config(retention))
    handle_message(request_message("backup", db="orders"), deps, threading.Event())
    [succeeded] = events_of(deps, CommandSucceeded)
    return deps, succeeded.summary


def _listed(store: FakeBackupStore, database: str = "orders") -> list[str]:
    return [manifest.backup_id for manifest in store.manifests(database)]


def test_a_backup_prunes_what_the_policy_lets_go_and_says_which() -> None:
    store = FakeBackupStore()
    _history(store)
    _history(store, "billing")

    _, summary = _back_up(store)

    [new, *_] = _listed(store)
    assert _listed(store) == [new, "orders-day1", "orders-day2"]
    assert summary.endswith(
        "\nPruned 3 older backup(s) (retention for `orders`: keep_last 3): `orders-day5`, `orders-day4`, `orders-day3`."
    )
    assert "backups/orders/orders-day5.dump" not in store.objects  # the data goes with the manifest
    assert "backups/orders/orders-day1.dump" in store.objects
    assert len(_listed(store, "billing")) == 5  # another database's backups are never touched


def test_the_default_policy_applies_to_a_database_without_its_own() -> None:
    store = FakeBackupStore()
    _history(store)
    _, summary = _back_up(store, "default: {keep_daily: 2}\n    billing: {keep_last: 1}")
    assert len(_listed(store)) == 2 and "(retention for `orders`: keep_daily 2)" in summary


def test_nothing_to_prune_is_said_too() -> None:
    store = FakeBackupStore()
    _history(store, days=1)
    _, summary = _back_up(store)
    assert summary.endswith("\nNothing to prune (retention for `orders`: keep_last 3).")


def test_without_a_policy_nothing_is_listed_nor_pruned_and_the_result_is_as_before() -> None:
    store = FakeBackupStore()
    _history(store)
    _, summary = _back_up(store, "billing: {keep_last: 1}")
    assert len(_listed(store)) == 6 and "\n" not in summary and store.calls["list_backups"] == 0


def test_an_incomplete_listing_prunes_nothing_and_says_so() -> None:
    store = FakeBackupStore()
    _history(store)
    store.fail("list_backups", ConnectionError("S3 went away on page 2"))

    _, summary = _back_up(store)

    assert len(_listed(store)) == 6 and store.calls["delete_backup"] == 0
    assert summary.endswith(
        "\nNothing was pruned (retention for `orders`: keep_last 3): the listing of its backups was incomplete: "
        "listing page 1 failed (ConnectionError). Every backup stays; the next backup tries again "
        "(details in the backup worker's logs)."
    )


class _ShortListing(FakeBackupStore):
    """Lists every manifest but the newest, as a stale or short listing would."""

    def list_backups(self, database: str) -> BackupListing:
        return BackupListing(self._listed(database)[1:])


def test_a_listing_without_the_backup_just_made_prunes_nothing() -> None:
    store = _ShortListing()
    _history(store)
    _, summary = _back_up(store)
    assert (
        len(_listed(store)) == 6 and "the listing of its backups does not show the backup just made (orders-" in summary
    )


def test_a_manifest_pointing_outside_its_database_prunes_nothing() -> None:
    store = FakeBackupStore()
    _history(store)
    stray = a_manifest("orders-stray", finished_at=NOW - timedelta(days=9)).model_copy(
        update={"object_key": "backups/billing/billing-day1.dump"}
    )
    store.add(stray)

    _, summary = _back_up(store)

    assert len(_listed(store)) == 7 and store.calls["delete_backup"] == 0
    assert "the manifest of orders-stray describes another database's or another object's backup" in summary


def test_a_backup_being_read_is_kept_and_pruned_by_a_later_backup() -> None:
    store = FakeBackupStore()
    oldest = _history(store)[0]

    with reading(store, oldest, reader="f00dcafe1234"):  # a verify or a restore, on this worker or another
        _, summary = _back_up(store)
        assert oldest.backup_id in _listed(store)
        assert (
            "Kept `orders-day5`, which the policy lets go: command `f00dcafe1234` is reading it; a later backup "
            "prunes it."
        ) in summary
        assert "Pruned 2 older backup(s)" in summary
    assert store.readers("orders") == {}

    _back_up(store)
    assert oldest.backup_id not in _listed(store)


class _ReadStartsMidway(FakeBackupStore):
    """A reader marks a backup after pruning's first look at the markers, before that backup is deleted."""

    def delete_backup(self, database: str, backup_id: str) -> None:
        super().delete_backup(database, backup_id)
        if backup_id == "orders-day5":
            self.start_reading(database, "orders-day4", "late0reader1")


def test_markers_are_looked_at_again_just_before_each_delete() -> None:
    store = _ReadStartsMidway()
    _history(store)
    _, summary = _back_up(store)
    assert "orders-day4" in _listed(store) and "orders-day5" not in _listed(store)
    assert "`late0reader1` is reading it" in summary


def test_a_delete_that_fails_stops_pruning_and_the_backup_still_succeeds() -> None:
    store = FakeBackupStore()
    _history(store)
    store.fail("delete_backup", PermissionError("AccessDenied"))

    _, summary = _back_up(store)

    assert summary.startswith("Backed up `orders` as ") and len(_listed(store)) == 6
    assert summary.endswith(
        "\nNothing was pruned (retention for `orders`: keep_last 3): deleting orders-day5 failed (PermissionError), "
        "so pruning stopped there. Every backup stays; the next backup tries again (details in the backup "
        "worker's logs)."
    )


def test_the_backups_being_read_unknown_prunes_nothing() -> None:
    store = FakeBackupStore()
    _history(store)
    store.fail("readers", TimeoutError())
    _, summary = _back_up(store)
    assert len(_listed(store)) == 6 and "the backups being read could not be listed (TimeoutError)" in summary


def test_deleting_a_backup_id_that_is_not_a_plain_name_is_refused() -> None:
    store = FakeBackupStore()
    for bad in ("../billing/x", "a/b", "..", ""):
        with pytest.raises(ValueError, match="not a plain backup id"):
            store.delete_backup("orders", bad)


def test_a_marker_goes_when_the_read_fails_and_a_read_that_cannot_be_marked_does_not_start() -> None:
    store = FakeBackupStore()
    manifest = a_manifest()
    with pytest.raises(RuntimeError), reading(store, manifest, reader="abc123abc123"):
        assert store.readers("orders") == {manifest.backup_id: ["abc123abc123"]}
        raise RuntimeError("the restore failed")
    assert store.readers("orders") == {}

    store.fail("start_reading", PermissionError())
    started = False
    with pytest.raises(PermissionError), reading(store, manifest, reader="abc123abc123"):
        started = True
    assert not started


def test_a_policy_for_a_database_the_worker_does_not_know_is_warned_at_start(caplog: pytest.LogCaptureFixture) -> None:
    deps = backup_deps(
        databases={"orders": ORDERS}, config=_config("default: {keep_last: 2}\n    bilings: {keep_last: 1}")
    )
    with caplog.at_level(logging.WARNING):
        log_startup_problems(deps)
    assert "backup.retention has a policy for databases this worker does not know: bilings" in caplog.text


class _SecondDeleteFails(FakeBackupStore):
    def delete_backup(self, database: str, backup_id: str) -> None:
        if backup_id == "orders-day4":
            raise PermissionError("AccessDenied")
        super().delete_backup(database, backup_id)


def test_a_delete_that_fails_part_way_says_what_was_pruned_and_that_the_rest_stay() -> None:
    store = _SecondDeleteFails()
    _history(store)
    _, summary = _back_up(store)
    assert "orders-day5" not in _listed(store) and len(_listed(store)) == 5
    assert summary.endswith(
        "\nPruned 1 older backup(s) (retention for `orders`: keep_last 3): `orders-day5`. Pruning stopped: deleting "
        "orders-day4 failed (PermissionError), so pruning stopped there. The rest stay; the next backup tries again "
        "(details in the backup worker's logs)."
    )
