"""The `BackupCatalog` contract: the in-memory fake and the S3 adapter (on moto) answer alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import boto3
import pytest
from moto import mock_aws

from shared.aws.backup_catalog import S3BackupCatalog
from shared.backups import BackupCatalog, manifest_key
from tests.support.fakes.backups import MemoryBackupCatalog

BUCKET = "slashops-backups-test"


class Bucket(Protocol):
    catalog: BackupCatalog

    def add(self, database: str, backup_id: str) -> None: ...


class InMemory:
    def __init__(self) -> None:
        self.catalog = self.fake = MemoryBackupCatalog()

    def add(self, database: str, backup_id: str) -> None:
        self.fake.add(database, backup_id)


class OnS3:
    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.s3.create_bucket(Bucket=BUCKET)
        self.catalog = S3BackupCatalog(BUCKET, client=self.s3)

    def add(self, database: str, backup_id: str) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=manifest_key(database, backup_id), Body=b"{}")


@pytest.fixture(params=["memory", "s3"])
def bucket(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bucket]:
    if request.param == "memory":
        yield InMemory()
        return
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield OnS3()


def test_a_backup_with_its_manifest_exists_and_others_do_not(bucket: Bucket) -> None:
    bucket.add("orders", "orders-20261128T101500Z-3f9c")
    assert bucket.catalog.has_backup("orders", "orders-20261128T101500Z-3f9c")
    assert not bucket.catalog.has_backup("orders", "orders-nope")
    assert not bucket.catalog.has_backup("billing", "orders-20261128T101500Z-3f9c")
