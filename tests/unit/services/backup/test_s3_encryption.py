"""Every object the worker writes is encrypted with SSE-KMS under the stack's key (moto's S3 records the headers):
the backup's data, its manifest, restore records, locks and read markers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.deps import BackupSettings
from services.backup.models import RestoreRecord
from services.backup.reading import marker_key, reading
from shared.backups import manifest_key
from tests.support.backup import T0, a_manifest

BUCKET = "slashops-backups-test"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        key = boto3.client("kms", region_name="us-east-1").create_key(Description="slashops backups")["KeyMetadata"]
        yield s3, key["Arn"]


def _encryption(s3: Any, key: str) -> tuple[str, str]:
    head = s3.head_object(Bucket=BUCKET, Key=key)
    return head.get("ServerSideEncryption", ""), head.get("SSEKMSKeyId", "")


def test_every_object_the_worker_writes_is_encrypted_under_the_key(aws: tuple[Any, str]) -> None:
    s3, key_arn = aws
    store = S3BackupStore(BUCKET, client=s3, kms_key_id=key_arn)
    manifest = a_manifest()

    upload = store.start_upload(manifest.object_key)
    upload.upload_part(1, b"a dump")
    upload.complete()
    store.put_manifest(manifest)
    store.put_restore_record(
        RestoreRecord(
            command_id="abc123abc123",
            database="orders",
            backup_id=manifest.backup_id,
            restored_by="U0ABC",
            started_at=T0,
            finished_at=T0,
        )
    )
    assert store.acquire_lock("orders", "backup abc123abc123 on test") is None
    written = [manifest.object_key, manifest_key("orders", manifest.backup_id), "restores/orders/abc123abc123.json"]
    written.append("locks/orders")
    with reading(store, manifest, reader="f00dcafe1234"):
        written.append(marker_key("orders", manifest.backup_id, "f00dcafe1234"))
        assert all(_encryption(s3, key) == ("aws:kms", key_arn) for key in written), [
            (key, _encryption(s3, key)) for key in written
        ]


def test_without_a_key_nothing_asks_for_kms(aws: tuple[Any, str]) -> None:
    s3, _ = aws
    store = S3BackupStore(BUCKET, client=s3)
    store.put_manifest(a_manifest())
    assert _encryption(s3, manifest_key("orders", a_manifest().backup_id))[0] != "aws:kms"


def test_the_key_comes_from_the_stacks_setting() -> None:
    env = {"SLASHOPS_BACKUP_QUEUE_URL": "q", "SLASHOPS_BACKUP_BUCKET": BUCKET}
    arn = "arn:aws:kms:eu-west-1:123456789012:key/0e4f"
    assert BackupSettings.from_env({**env, "SLASHOPS_BACKUP_KMS_KEY_ARN": arn}).kms_key_arn == arn
    assert BackupSettings.from_env(env).kms_key_arn == ""
