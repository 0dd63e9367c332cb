"""The worker's loop on a real SQS queue (LocalStack): heartbeat, delete when done, SIGTERM returns the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import boto3
import pytest

from services.backup.connections import Database
from services.backup.engines import PostgresEngine, ToolCommand
from services.backup.s3_store import S3BackupStore
from services.backup.sqs_queue import SqsJobQueue
from services.backup.worker import serve
from shared.events.models import CommandProgress, CommandSucceeded, Event
from tests.integration.services.backup.conftest import events_of, make_worker, request_message
from tools.local_aws import FAKE_CREDENTIALS, Service

pytestmark = pytest.mark.integration


class StalledDump(PostgresEngine):
    """Writes 6 MiB (one part uploaded), then hangs as a dump waiting on a lock would."""

    def dump(self, db: Database) -> ToolCommand:
        script = (
            "import os,sys,time; sys.stdout.buffer.write(os.urandom(6*1024*1024)); sys.stdout.flush(); time.sleep(120)"
        )
        return ToolCommand([sys.executable, "-c", script])


@pytest.fixture
def queue(localstack: Service) -> tuple[Any, str]:
    sqs = boto3.client("sqs", endpoint_url=localstack.endpoint)
    url = sqs.create_queue(QueueName=f"backup-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "2"})[
        "QueueUrl"
    ]
    return sqs, url


def _send(sqs: Any, url: str, command: str, **arguments: object) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=request_message(command, **arguments).body)


def _visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_finished_job_is_deleted_and_a_long_one_stays_invisible(
    pg_database: Database, store: S3BackupStore, queue: tuple[Any, str]
) -> None:
    sqs, url = queue
    worker = make_worker(store, pg_database, heartbeat=0.5)
    worker.deps.queue = SqsJobQueue(url, client=sqs)
    worker.deps.visibility_timeout = 2
    _send(sqs, url, "backup", db="orders")

    stopper = threading.Thread(target=_stop_when, args=(worker, CommandSucceeded, worker.stop))
    stopper.start()
    serve(worker.deps, worker.stop, wait_seconds=1)
    stopper.join()

    assert events_of(worker, CommandSucceeded)
    assert _visible(sqs, url) == 0


def test_stopping_mid_backup_aborts_the_upload_and_returns_the_message(
    pg_database: Database, store: S3BackupStore, queue: tuple[Any, str], s3: Any
) -> None:
    sqs, url = queue
    worker = make_worker(store, pg_database, heartbeat=0.5)
    worker.deps.queue = SqsJobQueue(url, client=sqs)
    worker.deps.visibility_timeout = 2
    worker.deps.engines = {"postgresql": StalledDump()}
    _send(sqs, url, "backup", db="orders")

    # WHEN the worker is told to stop while the dump hangs, longer than the visibility timeout
    stolen: list[Any] = []

    def check_invisible_then_stop() -> None:
        _stop_when(worker, CommandProgress, threading.Event(), 3.0)  # 3 s > the 2 s visibility timeout
        stolen.extend(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []))
        worker.stop.set()

    stopper = threading.Thread(target=check_invisible_then_stop)
    stopper.start()
    started = time.monotonic()
    serve(worker.deps, worker.stop, wait_seconds=1)
    stopper.join()

    # THEN the heartbeat kept the message hidden while it ran; it stopped promptly, left no upload or
    # manifest, said so, and the job is back on the queue
    assert stolen == []
    assert time.monotonic() - started < 20
    assert s3.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert store.manifests("orders") == []
    assert any("Interrupted" in p.message for p in events_of(worker, CommandProgress))
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages")
    assert store.acquire_lock("orders", "next") is None  # the lock was released


def _stop_when(worker: Any, kind: type[Event], stop: threading.Event, after: float = 0.0) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(isinstance(e, kind) for e in worker.publisher.events):
        time.sleep(0.05)
    time.sleep(after)
    stop.set()


def test_sigterm_stops_the_worker_process_cleanly(localstack: Service, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    env = {
        **os.environ,
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": localstack.endpoint,
        "SLASHOPS_BACKUP_QUEUE_URL": url,
        "SLASHOPS_BACKUP_BUCKET": "unused",
        "SLASHOPS_DB_ORDERS": "postgresql://postgres@127.0.0.1:5432/postgres",
        "SLASHOPS_BACKUP_POLL_SECONDS": "1",
    }
    env.pop("SLASHOPS_CONFIG", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.backup"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    time.sleep(3)
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert time.monotonic() - started < 5
    assert "received SIGTERM" in output and "backup worker stopped" in output
