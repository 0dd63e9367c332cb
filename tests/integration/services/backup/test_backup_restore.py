"""Backup and restore against the real PostgreSQL and MariaDB on this machine, with S3 on LocalStack."""

from __future__ import annotations

from typing import Any

import pytest

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.connections import Database, parse_url
from services.backup.consumer import Disposition, handle_message
from services.backup.errors import ObjectExists
from services.backup.models import Manifest, restore_record_key
from shared.backups import manifest_key
from shared.events.models import CommandAccepted, CommandFailed, CommandProgress, CommandRejected, CommandSucceeded
from tests.support.backup import DyingDump, events_of, make_worker, mariadb, psql, request_message

pytestmark = pytest.mark.integration


def _rows(db: Database) -> str:
    return psql("SELECT string_agg(id || ':' || item, ',' ORDER BY id) FROM orders", db.dbname)


def _only_manifest(store: S3BackupStore, db: Database) -> Manifest:
    [manifest] = store.manifests(db.name)
    return manifest


def test_postgres_backup_change_restore_compare(pg_database: Database, store: S3BackupStore) -> None:
    worker = make_worker(store, pg_database)

    # GIVEN a backup of the database
    assert handle_message(request_message("backup", db="orders"), worker.deps, worker.stop) is Disposition.DONE
    manifest = _only_manifest(store, pg_database)
    assert manifest.engine == "postgresql" and manifest.server_version == psql("SHOW server_version")
    assert manifest.size_bytes > 0 and len(manifest.sha256) == 64 and manifest.created_by == "U0ABC"
    [succeeded] = events_of(worker.deps, CommandSucceeded)
    assert manifest.backup_id in succeeded.summary
    assert events_of(worker.deps, CommandAccepted)

    # WHEN the data changes and the backup is restored with confirmation
    psql("UPDATE orders SET item = 'coffee' WHERE id = 1; DELETE FROM orders WHERE id = 2", pg_database.dbname)
    restore = request_message("restore", db="orders", confirm="orders", **{"from": manifest.backup_id})
    assert handle_message(restore, worker.deps, worker.stop) is Disposition.DONE

    # THEN the data is as it was
    assert _rows(pg_database) == "1:tea,2:cake"
    assert "Restored `orders`" in events_of(worker.deps, CommandSucceeded)[-1].summary


def test_the_same_restore_delivered_again_keeps_what_was_written_since(
    pg_database: Database, store: S3BackupStore, s3: Any
) -> None:
    worker = make_worker(store, pg_database)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    manifest = _only_manifest(store, pg_database)
    psql("DELETE FROM orders WHERE id = 2", pg_database.dbname)

    # GIVEN a confirmed restore that finished
    restore = request_message("restore", db="orders", confirm="orders", **{"from": manifest.backup_id})
    assert handle_message(restore, worker.deps, worker.stop) is Disposition.DONE
    assert _rows(pg_database) == "1:tea,2:cake"
    # AND a row written after it
    psql("INSERT INTO orders VALUES (3, 'scone')", pg_database.dbname)

    # WHEN SQS delivers the same restore again (same command id)
    assert handle_message(restore, worker.deps, worker.stop) is Disposition.DONE

    # THEN nothing is restored, the row is still there, and the user is told why
    assert _rows(pg_database) == "1:tea,2:cake,3:scone"
    first, again = [e.summary for e in events_of(worker.deps, CommandSucceeded)][-2:]
    assert first.startswith(f"Restored `orders` from `{manifest.backup_id}`")
    assert again.startswith(f"`orders` was already restored from `{manifest.backup_id}` by this command at ")
    assert again.endswith(" UTC; not restored again.")
    [command_id] = {e.command_id for e in events_of(worker.deps, CommandSucceeded)[-2:]}
    record = store.restore_record("orders", command_id)
    assert record is not None and record.backup_id == manifest.backup_id and record.restored_by == "U0ABC"
    assert s3.head_object(Bucket=store.bucket, Key=restore_record_key("orders", command_id))
    with pytest.raises(ObjectExists):  # the record of a restore is written once, like a manifest
        store.put_restore_record(record.model_copy(update={"backup_id": "other"}))
    assert store.restore_record("orders", command_id) == record
    assert store.restore_record("orders", "another-command") is None


def test_restore_without_confirmation_is_refused_and_says_what_to_type(
    pg_database: Database, store: S3BackupStore
) -> None:
    worker = make_worker(store, pg_database)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    backup_id = _only_manifest(store, pg_database).backup_id
    psql("DELETE FROM orders", pg_database.dbname)

    for confirm in (None, "other"):
        arguments: dict[str, Any] = {"db": "orders", "from": backup_id, "confirm": confirm}
        handle_message(request_message("restore", **arguments), worker.deps, worker.stop)
        rejected = events_of(worker.deps, CommandRejected)[-1]
        assert "--confirm orders" in rejected.hint and backup_id in rejected.hint
    assert _rows(pg_database) is None or _rows(pg_database) == ""


def test_backups_lists_completed_backups_newest_first(pg_database: Database, store: S3BackupStore) -> None:
    worker = make_worker(store, pg_database)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    handle_message(request_message("backups", db="orders"), worker.deps, worker.stop)
    listing = events_of(worker.deps, CommandSucceeded)[-1].summary
    newest, oldest = store.manifests(pg_database.name)
    assert listing.index(newest.backup_id) < listing.index(oldest.backup_id)
    assert "2 backup(s)" in listing


def test_corrupted_backup_fails_the_checksum_and_leaves_the_data(
    pg_database: Database, store: S3BackupStore, s3: Any
) -> None:
    worker = make_worker(store, pg_database)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    manifest = _only_manifest(store, pg_database)
    body = bytearray(s3.get_object(Bucket=store.bucket, Key=manifest.object_key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3.put_object(Bucket=store.bucket, Key=manifest.object_key, Body=bytes(body))
    psql("UPDATE orders SET item = 'changed'", pg_database.dbname)

    restore = request_message("restore", db="orders", confirm="orders", **{"from": manifest.backup_id})
    handle_message(restore, worker.deps, worker.stop)

    [failed] = events_of(worker.deps, CommandFailed)
    assert "checksum" in failed.reason
    assert _rows(pg_database) == "1:changed,2:changed"


def test_dump_killed_mid_stream_leaves_no_manifest_and_no_unfinished_upload(
    pg_database: Database, store: S3BackupStore, s3: Any
) -> None:
    worker = make_worker(store, pg_database)
    worker.deps.engines = {"postgresql": DyingDump(), "mysql": DyingDump()}
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)

    [failed] = events_of(worker.deps, CommandFailed)
    assert "exit code -9" in failed.reason
    assert store.manifests(pg_database.name) == []
    assert s3.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert [p for p in events_of(worker.deps, CommandProgress) if "so far" in p.message]


def test_failing_pg_dump_reports_its_stderr(store: S3BackupStore) -> None:
    missing = parse_url("orders", "postgresql://postgres@127.0.0.1:5432/slashops_no_such_db")
    worker = make_worker(store, missing)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    [failed] = events_of(worker.deps, CommandFailed)
    assert "pg_dump" in failed.reason and "slashops_no_such_db" in failed.output
    assert store.manifests("orders") == []


def test_unknown_database_is_rejected_naming_the_configured_ones(pg_database: Database, store: S3BackupStore) -> None:
    worker = make_worker(store, pg_database)
    handle_message(request_message("backup", db="billing"), worker.deps, worker.stop)
    [rejected] = events_of(worker.deps, CommandRejected)
    assert "`billing`" in rejected.reason and "`orders`" in rejected.hint


def test_a_second_job_on_a_busy_database_is_refused(pg_database: Database, store: S3BackupStore) -> None:
    worker = make_worker(store, pg_database)
    assert store.acquire_lock("orders", "backup 123 on other-worker") is None
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    [failed] = events_of(worker.deps, CommandFailed)
    assert "busy" in failed.reason and "other-worker" in failed.reason and failed.retryable
    store.release_lock("orders")
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    assert events_of(worker.deps, CommandSucceeded)


def test_mariadb_backup_change_restore_compare(maria_database: Database, store: S3BackupStore) -> None:
    worker = make_worker(store, maria_database)
    handle_message(request_message("backup", db="shop"), worker.deps, worker.stop)
    manifest = _only_manifest(store, maria_database)
    assert manifest.engine == "mysql" and manifest.server_version == mariadb("SELECT VERSION()")

    mariadb("UPDATE orders SET item = 'coffee' WHERE id = 1; DELETE FROM orders WHERE id = 2", maria_database.dbname)
    restore = request_message("restore", db="shop", confirm="shop", **{"from": manifest.backup_id})
    handle_message(restore, worker.deps, worker.stop)

    rows = mariadb("SELECT GROUP_CONCAT(CONCAT(id, ':', item) ORDER BY id) FROM orders", maria_database.dbname)
    assert rows == "1:tea,2:cake"


def test_restoring_a_backup_whose_data_was_deleted_fails_clearly_and_leaves_the_data(
    pg_database: Database, store: S3BackupStore, s3: Any
) -> None:
    worker = make_worker(store, pg_database)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    manifest = _only_manifest(store, pg_database)
    s3.delete_object(Bucket=store.bucket, Key=manifest.object_key)
    psql("UPDATE orders SET item = 'changed'", pg_database.dbname)
    accepted_before = len(events_of(worker.deps, CommandAccepted))

    restore = request_message("restore", db="orders", confirm="orders", **{"from": manifest.backup_id})
    assert handle_message(restore, worker.deps, worker.stop) is Disposition.DONE
    handle_message(request_message("backups", db="orders"), worker.deps, worker.stop)

    [failed] = events_of(worker.deps, CommandFailed)
    assert failed.reason.startswith(
        f"Backup `{manifest.backup_id}` is listed but its data is missing from the bucket (deleted?); nothing was "
        "restored — the database is unchanged."
    )
    assert not failed.retryable and "NoSuchKey" not in failed.reason
    assert len(events_of(worker.deps, CommandAccepted)) == accepted_before + 1  # the listing only: no "Restoring…"
    assert _rows(pg_database) == "1:changed,2:changed"
    assert "data missing" in events_of(worker.deps, CommandSucceeded)[-1].summary


def test_a_finished_backup_and_its_manifest_are_never_replaced(
    pg_database: Database, store: S3BackupStore, s3: Any
) -> None:
    worker = make_worker(store, pg_database)
    handle_message(request_message("backup", db="orders"), worker.deps, worker.stop)
    manifest = _only_manifest(store, pg_database)
    original = s3.get_object(Bucket=store.bucket, Key=manifest.object_key)["Body"].read()

    upload = store.start_upload(manifest.object_key)  # a second multipart upload onto the finished backup's key
    upload.upload_part(1, b"not the backup")
    with pytest.raises(ObjectExists):
        upload.complete()
    upload.abort()
    with pytest.raises(ObjectExists):
        store.put_manifest(manifest.model_copy(update={"sha256": "0" * 64}))

    assert s3.get_object(Bucket=store.bucket, Key=manifest.object_key)["Body"].read() == original
    assert _only_manifest(store, pg_database) == manifest
    assert s3.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert s3.head_object(Bucket=store.bucket, Key=manifest_key("orders", manifest.backup_id))
