"""`make run`'s state survives a restart: saved from one local AWS, put back into a new, empty one.

Two moto servers play the run before and the run after (`make run` provisions the same names each time)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.events import command_requested
from tools.local.aws import running, start_moto
from tools.local.state import clear, restore, save
from tools.local.system import local_stores, provision

pytestmark = pytest.mark.integration
BACKUP_KEY = "orders/orders-20261128T101500Z-3f9c/dump.gz"
DUMP = bytes(range(256)) * 64  # binary, as a compressed dump is


def test_ledger_backups_and_queued_messages_come_back_after_a_restart(tmp_path: Path) -> None:
    with running(start_moto()) as first:
        resources = provision(first.endpoint, first.endpoint)
        stores = local_stores(first.endpoint, first.endpoint, resources)
        assert restore(stores, tmp_path) is None  # nothing saved yet
        ledger = DynamoDbLedger(client=stores.dynamodb)
        ledger.record(command_requested("c0mmand00001", command="backup"), now=datetime.now(UTC))
        stores.s3.put_object(Bucket=resources.bucket, Key=BACKUP_KEY, Body=DUMP)
        stores.sqs.send_message(QueueUrl=resources.queues["backup"].url, MessageBody='{"waiting": 1}')
        dlq = stores.sqs.get_queue_url(QueueName="slashops-notifier-dlq")["QueueUrl"]
        stores.sqs.send_message(
            QueueUrl=dlq,
            MessageBody='{"gave up": 1}',
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )
        saved = save(stores, tmp_path, settle=0.5)
    assert (saved.items, saved.objects, saved.messages, saved.not_kept) == (1, 1, 2, 0)
    assert (tmp_path / "snapshot" / "meta.json").exists() and not (tmp_path / "snapshot.partial").exists()

    with running(start_moto()) as second:
        resources = provision(second.endpoint, second.endpoint)
        stores = local_stores(second.endpoint, second.endpoint, resources)
        restored = restore(stores, tmp_path)
        assert restored is not None and (restored.items, restored.objects, restored.messages) == (1, 1, 2)
        ledger = DynamoDbLedger(client=stores.dynamodb)
        assert [entry.command_id for entry in ledger.iter_recent()] == ["c0mmand00001"]  # its index too
        assert stores.s3.get_object(Bucket=resources.bucket, Key=BACKUP_KEY)["Body"].read() == DUMP
        got = stores.sqs.receive_message(QueueUrl=resources.queues["backup"].url, WaitTimeSeconds=1)["Messages"]
        assert [message["Body"] for message in got] == ['{"waiting": 1}']
        dlq = stores.sqs.get_queue_url(QueueName="slashops-notifier-dlq")["QueueUrl"]
        [gave_up] = stores.sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
        assert gave_up["MessageAttributes"]["origin"]["StringValue"] == "test"

    assert clear(tmp_path) and not clear(tmp_path)  # FRESH=1
    with running(start_moto()) as third:
        stores = local_stores(third.endpoint, third.endpoint, provision(third.endpoint, third.endpoint))
        assert restore(stores, tmp_path) is None
