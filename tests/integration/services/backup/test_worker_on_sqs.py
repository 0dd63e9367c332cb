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
from botocore.config import Config

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.adapters.sqs_queue import SqsJobQueue
from services.backup.connections import Database
from services.backup.serving import Backoff, serve
from shared.events.models import CommandProgress, CommandSucceeded, Event
from tests.support.backup import StalledDump, events_of, make_worker, request_message
from tests.support.tcp_proxy import TcpProxy
from tools.local.aws import FAKE_CREDENTIALS, Service

pytestmark = pytest.mark.integration


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

    assert events_of(worker.deps, CommandSucceeded)
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
    assert any("Interrupted" in p.message for p in events_of(worker.deps, CommandProgress))
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


def test_the_worker_survives_its_queue_endpoint_vanishing_and_serves_the_next_message(
    localstack: Service, pg_database: Database, store: S3BackupStore, queue: tuple[Any, str], caplog: Any
) -> None:
    sqs, url = queue
    host, port = localstack.endpoint.removeprefix("http://").split(":")
    with TcpProxy(host, int(port)) as proxy:
        # the worker reaches SQS only through the proxy; one attempt per call, so our loop sees every failure
        client = boto3.client(
            "sqs", endpoint_url=proxy.endpoint, config=Config(retries={"max_attempts": 1}, connect_timeout=1)
        )
        worker = make_worker(store, pg_database)
        worker.deps.queue = SqsJobQueue(url, client=client)
        loop = threading.Thread(
            target=serve, args=(worker.deps, worker.stop), kwargs={"wait_seconds": 1, "backoff": Backoff(0.1, 0.4)}
        )
        loop.start()
        try:
            time.sleep(1.5)  # a long poll or two through the proxy
            proxy.down()  # the endpoint vanishes (mid long-poll, too)
            _send(sqs, url, "backups", db="orders")
            time.sleep(2.0)
            assert loop.is_alive() and not events_of(worker.deps, CommandSucceeded)
            proxy.up()  # ...and comes back
            _wait_for(worker, CommandSucceeded, timeout=15)
        finally:
            worker.stop.set()
            loop.join(timeout=10)

    assert not loop.is_alive()
    assert "queue receive failed (attempt 3)" in caplog.text and "EndpointConnectionError" in caplog.text
    assert len(events_of(worker.deps, CommandSucceeded)) == 1
    assert _visible(sqs, url) == 0  # it was deleted once the endpoint was back


def _wait_for(worker: Any, kind: type[Event], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not events_of(worker.deps, kind):
        time.sleep(0.05)
    assert events_of(worker.deps, kind), worker.publisher.events


def test_a_broken_configuration_and_a_bad_database_url_do_not_stop_the_worker(
    localstack: Service, queue: tuple[Any, str], tmp_path: Any
) -> None:
    sqs, url = queue
    broken = tmp_path / "slashops.yaml"
    broken.write_text("access: [ {command: backup\n")
    env = {
        **os.environ,
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": localstack.endpoint,
        "SLASHOPS_BACKUP_QUEUE_URL": url,
        "SLASHOPS_BACKUP_BUCKET": "unused",
        "SLASHOPS_CONFIG": str(broken),
        "SLASHOPS_DB_ORDERS": "postgresql://postgres@127.0.0.1:5432/postgres",
        "SLASHOPS_DB_BILLING": "postgresql://app:hunter2@db.internal:notaport/billing",
        "SLASHOPS_BACKUP_POLL_SECONDS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.backup"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    time.sleep(4)
    still_running = worker.poll() is None
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)

    assert still_running, output
    assert worker.returncode == 0, output
    assert "cannot start" not in output
    assert "SLASHOPS_DB_BILLING is invalid (invalid port)" in output and "hunter2" not in output
    assert "CONFIGURATION ERROR" in output
