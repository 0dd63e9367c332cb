"""`restore` on the fakes, end to end through the consumer: confirmation, once per command id, missing data."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from services.backup.consumer import Disposition, handle_message
from services.backup.deps import BackupDeps
from services.backup.ports import QueueMessage
from shared.commands.catalog import CATALOG
from shared.events.models import CommandAccepted, CommandFailed, CommandProgress, CommandRejected, CommandSucceeded
from tests.support.backup import a_manifest, backup_deps, counting_restore, events_of, published, request_message
from tests.support.fakes.backup import FakeBackupStore

DATA = b"an archive"
MANIFEST = a_manifest(sha256=hashlib.sha256(DATA).hexdigest(), size_bytes=len(DATA))


def _restore(command_id: str | None = None, **arguments: object) -> QueueMessage:
    arguments = {"db": "orders", "confirm": "orders", "from": MANIFEST.backup_id, **arguments}
    return request_message("restore", command_id=command_id, **arguments)


def _restoring(tmp_path: Path, *, transactional: bool = True) -> tuple[BackupDeps, FakeBackupStore, Path]:
    store, log = FakeBackupStore().add(MANIFEST, DATA), tmp_path / "restores.log"
    deps = backup_deps(store=store, engines={"postgresql": counting_restore(str(log), transactional=transactional)})
    return deps, store, log


def _restores(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _handle(message: QueueMessage, deps: BackupDeps) -> Disposition:
    return handle_message(message, deps, threading.Event())


def test_a_confirmed_restore_restores_and_reads_the_manifest_once(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path)

    assert _handle(_restore(), deps) is Disposition.DONE

    assert _restores(log) == 1
    accepted, succeeded = published(deps)
    assert isinstance(accepted, CommandAccepted) and accepted.message == "Restoring `orders` (postgresql)…"
    assert isinstance(succeeded, CommandSucceeded)
    assert succeeded.summary == f"Restored `orders` from `{MANIFEST.backup_id}` (10 B)."
    assert store.calls["manifest"] == 1  # the precheck's manifest is the one restored from: not fetched again
    assert store.locks == {}


def test_a_non_transactional_engine_verifies_the_backup_before_touching_the_database(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path, transactional=False)

    _handle(_restore(), deps)

    [progress] = events_of(deps, CommandProgress)
    assert progress.message == "Verifying the backup's checksum before touching the database…"
    assert store.calls["read"] == 2 and _restores(log) == 1


def test_a_corrupted_backup_is_never_applied_by_a_non_transactional_engine(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path, transactional=False)
    store.objects[MANIFEST.object_key] = b"an archivE"

    _handle(_restore(), deps)

    [failed] = events_of(deps, CommandFailed)
    assert "checksum" in failed.reason and _restores(log) == 0


def test_restoring_without_confirmation_says_what_to_type_and_changes_nothing(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path)

    _handle(_restore(confirm="other"), deps)

    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and rejected.reason.endswith("Nothing was changed.")
    assert rejected.hint == (
        f"To go ahead, type exactly: `/ops restore --db orders --from {MANIFEST.backup_id} --confirm orders`"
    )
    assert _restores(log) == 0 and store.calls["acquire_lock"] == 0


def test_restoring_an_unknown_backup_is_rejected_with_a_pointer_to_the_list() -> None:
    deps = backup_deps()
    _handle(_restore(**{"from": "orders-x"}), deps)
    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected)
    assert "no backup `orders-x`" in rejected.reason and "/ops backups --db orders" in rejected.hint


def test_restoring_a_backup_whose_data_is_gone_fails_clearly_before_anything_starts() -> None:
    deps = backup_deps(store=FakeBackupStore().add(MANIFEST, data=None))

    _handle(_restore(), deps)

    [failed] = published(deps)
    assert isinstance(failed, CommandFailed) and not failed.retryable
    assert failed.reason.startswith(
        f"Backup `{MANIFEST.backup_id}` is listed but its data is missing from the bucket (deleted?); nothing was "
        "restored — the database is unchanged."
    )
    assert "/ops backups --db orders" in failed.reason and "manifests/orders/" in failed.reason


def test_data_deleted_after_the_precheck_fails_the_same_way_and_restores_nothing(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path)
    original = store.acquire_lock

    def lock_then_lose_the_data(database: str, owner: str) -> str | None:
        del store.objects[MANIFEST.object_key]  # deleted between the precheck and the restore
        return original(database, owner)

    store.acquire_lock = lock_then_lose_the_data  # type: ignore[method-assign]
    _handle(_restore(), deps)

    [failed] = events_of(deps, CommandFailed)
    assert "its data is missing from the bucket" in failed.reason and not failed.retryable
    assert _restores(log) == 0 and store.restore_records == {}


# --- a restore runs at most once per command id ---------------------------------------------------------------


def test_the_same_restore_delivered_twice_restores_once_and_says_so(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path)
    restore = _restore()

    assert _handle(restore, deps) is Disposition.DONE
    assert _handle(restore, deps) is Disposition.DONE  # SQS delivered it again

    assert _restores(log) == 1
    first, second = events_of(deps, CommandSucceeded)
    assert first.summary.startswith(f"Restored `orders` from `{MANIFEST.backup_id}`")
    [record] = store.restore_records.values()
    assert second.summary == (
        f"`orders` was already restored from `{MANIFEST.backup_id}` by this command at "
        f"{record.finished_at:%Y-%m-%d %H:%M} UTC; not restored again."
    )
    assert second.duration_seconds is None
    assert record.backup_id == MANIFEST.backup_id and record.restored_by == "U0ABC"


def test_another_restore_command_of_the_same_backup_restores_again(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path)

    _handle(_restore(), deps)
    _handle(_restore(), deps)  # a new command id

    assert _restores(log) == 2 and len(store.restore_records) == 2
    assert all(e.summary.startswith("Restored `orders`") for e in events_of(deps, CommandSucceeded))


def test_a_restore_whose_record_cannot_be_written_is_still_reported_as_done(tmp_path: Path) -> None:
    deps, store, log = _restoring(tmp_path)
    store.fail("put_restore_record", RuntimeError("S3 unreachable"))

    _handle(_restore(), deps)

    assert _restores(log) == 1
    [succeeded] = events_of(deps, CommandSucceeded)
    assert succeeded.summary.startswith(f"Restored `orders` from `{MANIFEST.backup_id}`")
    assert "could not be recorded" in succeeded.summary and "restore again" in succeeded.summary
    assert not events_of(deps, CommandFailed)


def test_a_restore_announces_who_restores_which_database_from_which_backup(tmp_path: Path) -> None:
    """Its events carry the activity the notifier announces in the channel (start and end); other commands' don't."""
    deps, _, _ = _restoring(tmp_path)
    _handle(_restore(), deps)
    _handle(request_message("backups", db="orders"), deps)

    restore_events = [e for e in published(deps) if e.command == "restore"]
    assert [type(e) for e in restore_events] == [CommandAccepted, CommandSucceeded]
    assert {e.activity for e in restore_events} == {f"restoring `orders` from backup `{MANIFEST.backup_id}`"}
    assert CATALOG.get("restore").visibility == "in_channel"  # so the notifier announces it in the channel
    assert all(e.activity == "" for e in published(deps) if e.command == "backups")
