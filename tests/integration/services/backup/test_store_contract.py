"""The `BackupStore` contract: the in-memory fake and `S3BackupStore` on LocalStack pass the same tests.

So the unit tests, which run the use cases on the fake, test what S3 does: conditional writes (a second complete
or put of a key fails with `ObjectExists` and the first stays), one lock per database, restore records, and a
missing object read as `BackupDataMissing`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.errors import BackupDataMissing, ObjectExists
from services.backup.models import RestoreRecord, Verification, VerificationMark
from services.backup.ports import BackupStore
from tests.support.backup import T0, a_manifest
from tests.support.fakes.backup import FakeBackupStore
from tools.local.aws import Service


@pytest.fixture(params=["fake", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Iterator[BackupStore]:
    if request.param == "fake":
        yield FakeBackupStore()
        return
    localstack: Service = request.getfixturevalue("localstack")
    s3 = boto3.client("s3", endpoint_url=localstack.endpoint)
    bucket = f"slashops-contract-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    yield S3BackupStore(bucket, client=s3)


def _upload(store: BackupStore, key: str, *parts: bytes) -> None:
    upload = store.start_upload(key)
    for number, part in enumerate(parts, start=1):
        upload.upload_part(number, part)
    upload.complete()


def test_a_completed_upload_reads_back_whole_and_in_chunks(store: BackupStore) -> None:
    _upload(store, "backups/orders/a.dump", b"x" * (5 * 1024 * 1024), b"tail")

    assert store.exists("backups/orders/a.dump")
    chunks = list(store.read("backups/orders/a.dump", 1024 * 1024))
    assert b"".join(chunks) == b"x" * (5 * 1024 * 1024) + b"tail"
    assert max(len(chunk) for chunk in chunks) <= 1024 * 1024


def test_a_second_upload_to_a_finished_key_fails_and_the_first_stays(store: BackupStore) -> None:
    _upload(store, "backups/orders/a.dump", b"the backup")
    second = store.start_upload("backups/orders/a.dump")
    second.upload_part(1, b"not the backup")

    with pytest.raises(ObjectExists):
        second.complete()
    second.abort()

    assert b"".join(store.read("backups/orders/a.dump", 1024)) == b"the backup"


def test_an_aborted_upload_leaves_nothing(store: BackupStore) -> None:
    upload = store.start_upload("backups/orders/b.dump")
    upload.upload_part(1, b"half a dump")
    upload.abort()
    assert not store.exists("backups/orders/b.dump")


def test_missing_data_reads_as_backup_data_missing(store: BackupStore) -> None:
    assert not store.exists("backups/orders/gone.dump")
    with pytest.raises(BackupDataMissing):
        list(store.read("backups/orders/gone.dump", 1024))


def test_manifests_are_written_once_and_listed_newest_first(store: BackupStore) -> None:
    older = a_manifest("orders-older", finished_at=T0)
    newer = a_manifest("orders-newer", finished_at=T0 + timedelta(hours=1))
    store.put_manifest(older)
    store.put_manifest(newer)
    store.put_manifest(a_manifest("billing-one", database="billing"))

    with pytest.raises(ObjectExists):
        store.put_manifest(older.model_copy(update={"sha256": "1" * 64}))

    assert store.manifests("orders") == [newer, older]
    assert store.manifest("orders", "orders-older") == older
    assert store.manifest("orders", "orders-nope") is None
    assert store.manifests("nothing") == []


def test_the_backup_a_command_finished_is_found_by_its_command_id(store: BackupStore) -> None:
    ours = a_manifest("orders-20261128T101500Z-abc123", command_id="abc123abc123")
    store.put_manifest(ours)
    store.put_manifest(a_manifest("orders-20261128T111500Z-abc123", command_id="abc123ffffff"))  # same 6 first
    store.put_manifest(a_manifest("orders-20261128T121500Z-def456", command_id="def456def456"))
    store.put_manifest(a_manifest("billing-20261128T101500Z-abc123", database="billing", command_id="abc123abc123"))

    assert store.backup_by_command("orders", "abc123abc123") == ours
    assert store.backup_by_command("orders", "fed654fed654") is None
    assert store.backup_by_command("nothing", "abc123abc123") is None


@pytest.mark.integration
def test_s3_reads_only_the_manifests_that_may_be_the_commands(localstack: Service) -> None:
    """A redelivery check costs one listing and one read, not a read of every backup the database has."""
    s3 = boto3.client("s3", endpoint_url=localstack.endpoint)
    bucket = f"slashops-contract-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    store = S3BackupStore(bucket, client=s3)
    for hour in range(6):
        store.put_manifest(a_manifest(f"orders-20261128T{hour:02}1500Z-0{hour}0000", command_id=f"0{hour}0000aaaaaa"))
    ours = a_manifest("orders-20261128T101500Z-abc123", command_id="abc123abc123")
    store.put_manifest(ours)
    reads: list[str] = []
    s3.meta.events.register("before-parameter-build.s3.GetObject", lambda params, **_: reads.append(params["Key"]))

    assert store.backup_by_command("orders", "abc123abc123") == ours
    assert reads == ["manifests/orders/orders-20261128T101500Z-abc123.json"]


def test_a_restore_record_is_written_once_per_command(store: BackupStore) -> None:
    record = RestoreRecord(
        command_id="abc123def456",
        database="orders",
        backup_id="orders-older",
        restored_by="example.user",
        started_at=T0,
        finished_at=T0,
    )
    assert store.restore_record("orders", "abc123def456") is None

    store.put_restore_record(record)
    with pytest.raises(ObjectExists):
        store.put_restore_record(record.model_copy(update={"backup_id": "other"}))

    assert store.restore_record("orders", "abc123def456") == record
    assert store.restore_record("orders", "another") is None


def test_one_lock_per_database_until_released(store: BackupStore) -> None:
    assert store.acquire_lock("orders", "backup 111 on worker-1") is None
    assert store.acquire_lock("orders", "restore 222 on worker-2") == "backup 111 on worker-1"
    assert store.acquire_lock("billing", "backup 333 on worker-2") is None

    store.release_lock("orders")

    assert store.acquire_lock("orders", "restore 222 on worker-2") is None


def test_an_objects_size_is_its_length_and_a_missing_one_has_none(store: BackupStore) -> None:
    _upload(store, "backups/orders/s.dump", b"y" * (5 * 1024 * 1024), b"12345")
    assert store.size("backups/orders/s.dump") == 5 * 1024 * 1024 + 5
    assert store.size("backups/orders/nothing.dump") is None


def _verification(backup_id: str, command_id: str, *, passed: bool, minutes: int) -> Verification:
    at = T0 + timedelta(minutes=minutes)
    return Verification(
        command_id=command_id,
        database=backup_id.partition("-")[0],
        backup_id=backup_id,
        passed=passed,
        verified_by="U0ABC",
        started_at=at - timedelta(seconds=30),
        finished_at=at,
    )


def test_verifications_are_written_once_and_each_backup_shows_its_newest(store: BackupStore) -> None:
    first = _verification("orders-20261128T101500Z-abc123", "cmd000000001", passed=True, minutes=1)
    store.put_verification(first)
    store.put_verification(_verification("orders-20261128T101500Z-abc123", "cmd000000002", passed=False, minutes=9))
    store.put_verification(_verification("orders-20261129T101500Z-def456", "cmd000000003", passed=True, minutes=5))
    store.put_verification(_verification("orders_x-20261129T101500Z-def456", "cmd000000004", passed=True, minutes=5))

    with pytest.raises(ObjectExists):
        store.put_verification(first)

    marks = store.verifications("orders")
    assert set(marks) == {"orders-20261128T101500Z-abc123", "orders-20261129T101500Z-def456"}
    assert marks["orders-20261128T101500Z-abc123"] == VerificationMark(passed=False, at=T0 + timedelta(minutes=9))
    assert marks["orders-20261129T101500Z-def456"] == VerificationMark(passed=True, at=T0 + timedelta(minutes=5))
    assert store.verifications("billing") == {}


# --- retention: the listing pruning reads, deletion of one backup, read markers ------------------------------------


def test_the_retention_listing_is_complete_newest_first_and_a_delete_removes_that_backup_only(
    store: BackupStore,
) -> None:
    for hour, database in [(0, "orders"), (1, "orders"), (2, "orders_eu")]:
        manifest = a_manifest(f"{database}-{hour}", database=database, finished_at=T0 + timedelta(hours=hour))
        _upload(store, manifest.object_key, b"dump")
        store.put_manifest(manifest)

    listing = store.list_backups("orders")
    assert listing.problem is None and [m.backup_id for m in listing.manifests] == ["orders-1", "orders-0"]

    store.delete_backup("orders", "orders-0")
    assert [m.backup_id for m in store.list_backups("orders").manifests] == ["orders-1"]
    assert not store.exists("backups/orders/orders-0.dump") and store.exists("backups/orders/orders-1.dump")
    assert [m.backup_id for m in store.list_backups("orders_eu").manifests] == ["orders_eu-2"]
    with pytest.raises(ValueError):
        store.delete_backup("orders", "../orders_eu/orders_eu-2")


def test_read_markers_are_listed_per_backup_until_removed(store: BackupStore) -> None:
    store.start_reading("orders", "orders-1", "f00dcafe1234")
    store.start_reading("orders", "orders-1", "beef00001234")
    store.start_reading("orders_eu", "orders_eu-2", "f00dcafe1234")
    assert store.readers("orders") == {"orders-1": ["beef00001234", "f00dcafe1234"]}
    store.stop_reading("orders", "orders-1", "f00dcafe1234")
    store.stop_reading("orders", "orders-1", "beef00001234")
    assert store.readers("orders") == {} and store.readers("orders_eu") == {"orders_eu-2": ["f00dcafe1234"]}
