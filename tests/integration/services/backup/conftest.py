"""Real PostgreSQL and MariaDB on this machine, S3 and SQS on LocalStack; throwaway databases, buckets, queues."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.connections import Database
from tests.support.backup import throwaway_maria_database, throwaway_pg_database
from tools.local.aws import Service


@pytest.fixture
def pg_database() -> Iterator[Database]:
    with throwaway_pg_database() as database:
        yield database


@pytest.fixture
def maria_database() -> Iterator[Database]:
    with throwaway_maria_database() as database:
        yield database


@pytest.fixture
def s3(localstack: Service) -> Any:
    return boto3.client("s3", endpoint_url=localstack.endpoint)


@pytest.fixture
def store(s3: Any) -> S3BackupStore:
    bucket = f"slashops-backups-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return S3BackupStore(bucket, client=s3)
