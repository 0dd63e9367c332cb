"""Real PostgreSQL and MariaDB on this machine, S3 on LocalStack; throwaway databases and buckets."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from services.backup.connections import Database, parse_url
from services.backup.jobs import JobSettings
from services.backup.s3_store import S3BackupStore
from services.backup.worker import WorkerDeps
from tests.support.backup import FakeQueue, open_config, request_message  # noqa: F401 (re-exported for the tests)
from tests.support.fakes import RecordingPublisher
from tools.local_aws import Service

PG_URL = os.environ.get("SLASHOPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/{db}")
MARIA_URL = os.environ.get("SLASHOPS_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/{db}")
SEED_SQL = "CREATE TABLE orders (id int primary key, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake')"
TOOL_ENV = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}


def psql(sql: str, dbname: str = "postgres") -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", dbname, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def mariadb(sql: str, dbname: str = "") -> str:
    argv = ["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root", "--protocol=TCP", "-N", "-B", "-e", sql]
    done = subprocess.run([*argv, *([dbname] if dbname else [])], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def pg_database() -> Iterator[Database]:
    name = f"slashops_t_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {name}")
    psql(SEED_SQL, name)
    yield parse_url("orders", PG_URL.format(db=name))
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def maria_database() -> Iterator[Database]:
    name = f"slashops_t_{uuid.uuid4().hex[:8]}"
    mariadb(f"CREATE DATABASE {name}")
    mariadb(
        "CREATE TABLE orders (id int primary key, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake')", name
    )
    yield parse_url("shop", MARIA_URL.format(db=name))
    mariadb(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def s3(localstack: Service) -> Any:
    return boto3.client("s3", endpoint_url=localstack.endpoint)


@pytest.fixture
def store(s3: Any) -> S3BackupStore:
    bucket = f"slashops-backups-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return S3BackupStore(bucket, client=s3)


@dataclass
class Worker:
    deps: WorkerDeps
    publisher: RecordingPublisher
    stop: threading.Event


def make_worker(store: S3BackupStore, *databases: Database, heartbeat: float = 30.0) -> Worker:
    publisher = RecordingPublisher()
    deps = WorkerDeps(
        queue=FakeQueue(),
        store=store,
        publisher=publisher,
        databases={db.name: db for db in databases},
        settings=JobSettings(part_size=5 * 1024 * 1024, progress_every_seconds=0.0, tool_env=TOOL_ENV),
        config=open_config(),
        heartbeat_seconds=heartbeat,
    )
    return Worker(deps=deps, publisher=publisher, stop=threading.Event())


def events_of[E](worker: Worker, kind: type[E]) -> list[E]:
    return [event for event in worker.publisher.events if isinstance(event, kind)]
