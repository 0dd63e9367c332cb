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


NOW = 1_796_000_000  # 2026-11-30


def test_the_newest_backup_is_the_latest_started_of_that_database_only(bucket: Bucket) -> None:
    bucket.add("orders", "orders-20261128T101500Z-aaaa")
    bucket.add("orders", "orders-20261129T101500Z-bbbb")
    bucket.add("orders", "orders-20260101T000000Z-cccc")
    bucket.add("orders-eu", "orders-eu-20261130T000000Z-dddd")
    assert bucket.catalog.latest("orders", now=NOW) == "orders-20261129T101500Z-bbbb"
    assert bucket.catalog.latest("orders-eu", now=NOW) == "orders-eu-20261130T000000Z-dddd"


def test_an_old_backup_is_still_found_and_none_is_none(bucket: Bucket) -> None:
    bucket.add("billing", "billing-20250101T000000Z-aaaa")
    assert bucket.catalog.latest("billing", now=NOW) == "billing-20250101T000000Z-aaaa"
    assert bucket.catalog.latest("orders", now=NOW) is None
