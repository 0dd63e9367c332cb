"""`verify` on the fakes, end to end through the consumer: a scratch database made and always dropped, row counts
compared with the manifest's, the result kept with the backup and shown by `backups`."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from services.backup.consumer import handle_message
from services.backup.deps import BackupDeps
from services.backup.models import Mismatch
from services.backup.verifying import differences, scratch_name, scratch_prefix
from shared.events.models import CommandAccepted, CommandFailed, CommandProgress, CommandRejected, CommandSucceeded
from tests.support.backup import T0, ScriptEngine, a_manifest, backup_deps, events_of, published, request_message
from tests.support.fakes.backup import FakeBackupStore

DATA = b"an archive of orders"
COUNTS = {"public.orders": 2, "public.items": 5}
MANIFEST = a_manifest(sha256=hashlib.sha256(DATA).hexdigest(), size_bytes=len(DATA)).model_copy(
    update={"tables": COUNTS}
)
COMMAND_ID = "c0ffee123456"
SCRATCH = scratch_name("orders", COMMAND_ID)


def _deps(tmp_path: Path, **engine: object) -> tuple[BackupDeps, FakeBackupStore, Path]:
    store, log = FakeBackupStore().add(MANIFEST, DATA), tmp_path / "tools.log"
    options: dict[str, object] = {"restored_rows": dict(COUNTS), **engine}
    deps = backup_deps(store=store, engines={"postgresql": ScriptEngine(log=str(log), **options)})  # type: ignore[arg-type]
    return deps, store, log


def _verify(deps: BackupDeps, **arguments: object) -> None:
    message = request_message("verify", command_id=COMMAND_ID, db="orders", **arguments)
    handle_message(message, deps, threading.Event())


def _tools(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_good_backup_passes_in_a_scratch_database_that_is_dropped_and_the_result_is_kept(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)

    _verify(deps)

    assert _tools(log) == [f"create {SCRATCH}", f"restore {SCRATCH}", f"drop {SCRATCH}"]  # never `orders` itself
    accepted, progress, succeeded = published(deps)
    assert isinstance(accepted, CommandAccepted) and accepted.message == "Verifying a backup of `orders` (postgresql)…"
    assert isinstance(progress, CommandProgress) and SCRATCH in progress.message
    assert isinstance(succeeded, CommandSucceeded)
    assert succeeded.summary.startswith(f"Verified backup `{MANIFEST.backup_id}` of `orders` in ")
    assert "all 2 table(s) have the row counts recorded at backup time (7 rows)" in succeeded.summary
    assert "The scratch database was dropped; `orders` itself was not touched." in succeeded.summary
    [record] = store.verification_records.values()
    assert record.passed and record.backup_id == MANIFEST.backup_id and record.tables == 2 and record.problem == ""
    assert store.locks == {} and store.calls["start_reading"] == store.calls["stop_reading"] == 1


def test_rows_that_differ_fail_it_naming_the_first_tables_and_the_result_is_kept(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path, restored_rows={"public.orders": 1, "public.extra": 0})

    _verify(deps)

    assert _tools(log)[-1] == f"drop {SCRATCH}"
    [failed] = events_of(deps, CommandFailed)
    assert not failed.retryable
    assert failed.reason.startswith(f"Backup `{MANIFEST.backup_id}` of `orders` *failed verification* (after ")
    assert (
        "the row counts of 3 table(s) differ from those recorded at backup time (2 tables): `public.extra` not in "
        "the backup, 0 "
        "restored; `public.items` 5 at backup time, missing after the restore; `public.orders` 2 at backup time, "
        "1 restored."
    ) in failed.reason
    assert "The scratch database was dropped; `orders` itself was not touched." in failed.reason
    [record] = store.verification_records.values()
    assert not record.passed and "`public.orders` 2 at backup time, 1 restored" in record.problem


def test_a_changed_byte_fails_it_and_the_scratch_database_is_dropped(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)
    store.objects[MANIFEST.object_key] = DATA[:3] + b"!" + DATA[4:]

    _verify(deps)

    assert _tools(log)[0] == f"create {SCRATCH}" and _tools(log)[-1] == f"drop {SCRATCH}"
    [failed] = events_of(deps, CommandFailed)
    assert (
        "*failed verification*" in failed.reason
        and "does not match the checksum its manifest recorded" in failed.reason
    )
    [record] = store.verification_records.values()
    assert not record.passed


def test_a_truncated_object_fails_it_without_making_a_scratch_database(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)
    store.objects[MANIFEST.object_key] = DATA[:10]

    _verify(deps)

    assert _tools(log) == []
    [failed] = events_of(deps, CommandFailed)
    assert "its data is 10 bytes in the bucket, and the manifest recorded 20" in failed.reason
    assert "No scratch database was needed; `orders` itself was not touched." in failed.reason
    assert [record.passed for record in store.verification_records.values()] == [False]


def test_a_restore_that_fails_fails_the_verification_with_the_tools_last_words(tmp_path: Path) -> None:
    failing = "import sys; sys.stdin.buffer.read(); sys.stderr.write('ERROR: role \"app\" does not exist\\n'); exit(1)"
    deps, store, log = _deps(tmp_path, restore_script=failing)

    _verify(deps)

    assert _tools(log)[-1] == f"drop {SCRATCH}"
    [failed] = events_of(deps, CommandFailed)
    assert "*failed verification*" in failed.reason and "The backup did not restore: `" in failed.reason
    assert "failed (exit code 1)." in failed.reason
    assert 'role "app" does not exist' in failed.reason.replace("&quot;", '"')
    assert [record.passed for record in store.verification_records.values()] == [False]


def test_a_scratch_database_an_earlier_verify_left_is_dropped_first_and_said(tmp_path: Path) -> None:
    leftover = f"{scratch_prefix('orders')}deadbeef0000"
    someone_elses = f"{scratch_prefix('billing')}deadbeef0000"
    deps, _, log = _deps(tmp_path, existing=(leftover, someone_elses))

    _verify(deps)

    assert _tools(log) == [f"drop {leftover}", f"create {SCRATCH}", f"restore {SCRATCH}", f"drop {SCRATCH}"]
    [succeeded] = events_of(deps, CommandSucceeded)
    assert f"Dropped `{leftover}` first, a scratch database an earlier verify left" in succeeded.summary


def test_the_newest_backup_is_verified_unless_one_is_named(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)
    older = a_manifest("orders-20261001T000000Z-0ld000", finished_at=T0.replace(month=10))
    store.add(older)

    _verify(deps)
    _verify(deps, **{"from": older.backup_id})

    assert sorted(record.backup_id for record in store.verification_records.values()) == sorted(
        [MANIFEST.backup_id, older.backup_id]
    )


def test_a_manifest_without_row_counts_is_verified_by_its_restore_and_says_rows_were_not_compared(
    tmp_path: Path,
) -> None:
    deps, store, _ = _deps(tmp_path)
    store.manifest_objects = {
        key: manifest.model_copy(update={"tables": None}) for key, manifest in store.manifest_objects.items()
    }

    _verify(deps)

    [succeeded] = events_of(deps, CommandSucceeded)
    assert "its manifest predates row counts, so rows were not compared" in succeeded.summary


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"from": "billing-20261128T101500Z-abc123"}, "There is no backup `billing-20261128T101500Z-abc123` of"),
        ({"from": "orders-20261128T101500Z-nope00"}, "There is no backup `orders-20261128T101500Z-nope00`"),
    ],
)
def test_an_unknown_backup_is_refused_before_anything_starts(
    tmp_path: Path, arguments: dict[str, str], reason: str
) -> None:
    deps, _, log = _deps(tmp_path)
    _verify(deps, **arguments)
    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and rejected.reason.startswith(reason) and _tools(log) == []


def test_a_backup_of_another_database_is_refused_with_the_command_that_verifies_it(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)
    store.add(a_manifest("billing-20261128T101500Z-abc123", database="billing"))

    _verify(deps, **{"from": "billing-20261128T101500Z-abc123"})

    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and _tools(log) == []
    assert rejected.reason == (
        "`billing-20261128T101500Z-abc123` is a backup of `billing`, not of `orders`: nothing was verified."
    )
    assert rejected.hint == "To verify it: `/ops verify --db billing --from billing-20261128T101500Z-abc123`"


def test_a_database_without_backups_has_nothing_to_verify(tmp_path: Path) -> None:
    deps = backup_deps(store=FakeBackupStore())
    _verify(deps)
    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason == "`orders` has no completed backups yet, so there is nothing to verify."


def test_backups_shows_each_backups_newest_verification(tmp_path: Path) -> None:
    deps, store, _ = _deps(tmp_path)
    passed_earlier = a_manifest("orders-20261001T000000Z-0ld000", finished_at=T0.replace(month=10))
    store.add(passed_earlier, b"x")  # its checksum does not match: this verify fails …
    _verify(deps, **{"from": passed_earlier.backup_id})
    _verify(deps)  # … and this one passes

    handle_message(request_message("backups", db="orders"), deps, threading.Event())

    listing = events_of(deps, CommandSucceeded)[-1].summary
    newest, older = listing.splitlines()[1:3]
    assert newest.startswith(f"• `{MANIFEST.backup_id}`") and " — verified 20" in newest
    assert older.startswith(f"• `{passed_earlier.backup_id}`") and " — *verify failed 20" in older


def test_differences_are_every_table_missing_or_counted_otherwise_in_name_order() -> None:
    assert differences({"b": 1, "a": 2}, {"a": 2, "b": 1}) == []
    assert differences({"b": 1, "c": 3}, {"a": 0, "b": 2}) == [
        Mismatch("a", None, 0),
        Mismatch("b", 1, 2),
        Mismatch("c", 3, None),
    ]
