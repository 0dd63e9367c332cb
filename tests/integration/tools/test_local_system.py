"""`make run`'s provisioning on its fallback (moto's server for everything): same template, tables, bucket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest

from shared.ledger.dynamodb import RECENT_INDEX
from tools.local_aws import Service, running, start_moto
from tools.local_system import APPROVAL_TABLE, DEPLOY_TABLE, LEDGER_TABLE, LOCAL_BUCKET, REPLAY_TABLE, provision

pytestmark = pytest.mark.integration


@pytest.fixture
def moto_server() -> Iterator[Service]:
    """Its own server: `make run` uses fixed names (bus `slashops`, table `slashops-ledger`...)."""
    with running(start_moto()) as service:
        yield service


def test_provision_on_moto_alone_routes_commands_and_creates_tables_and_bucket(moto_server: Service) -> None:
    resources = provision(moto_server.endpoint, moto_server.endpoint)
    session = boto3.Session(region_name="us-east-1")

    tables = session.client("dynamodb", endpoint_url=moto_server.endpoint)
    ledger = tables.describe_table(TableName=LEDGER_TABLE)["Table"]
    assert [index["IndexName"] for index in ledger["GlobalSecondaryIndexes"]] == [RECENT_INDEX]
    assert tables.describe_table(TableName=DEPLOY_TABLE)["Table"]["TableStatus"] == "ACTIVE"
    replays = tables.describe_time_to_live(TableName=REPLAY_TABLE)["TimeToLiveDescription"]
    assert replays["TimeToLiveStatus"] == "ENABLED" and resources.env()["SLASHOPS_REPLAY_TABLE"] == REPLAY_TABLE
    approvals = tables.describe_time_to_live(TableName=APPROVAL_TABLE)["TimeToLiveDescription"]
    assert approvals["AttributeName"] == "forget_at" and approvals["TimeToLiveStatus"] == "ENABLED"
    assert resources.env()["SLASHOPS_APPROVAL_TABLE"] == APPROVAL_TABLE
    session.client("s3", endpoint_url=moto_server.endpoint).head_bucket(Bucket=LOCAL_BUCKET)

    events = session.client("events", endpoint_url=moto_server.endpoint)
    archives = events.list_archives()["Archives"]
    assert any(archive["EventSourceArn"].endswith(f"event-bus/{resources.bus_name}") for archive in archives)
    detail = {"command": "backup", "command_id": "c1"}
    entry = {"Source": "slashops.ingress", "DetailType": "CommandRequested", "Detail": json.dumps(detail)}
    assert events.put_events(Entries=[{**entry, "EventBusName": resources.bus_name}])["FailedEntryCount"] == 0

    sqs = session.client("sqs", endpoint_url=moto_server.endpoint)
    deadline, got = time.monotonic() + 5, []
    while not got and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=resources.queues["backup"].url, WaitTimeSeconds=1).get("Messages", [])
    assert json.loads(got[0]["Body"])["detail"]["command_id"] == "c1"
    assert sqs.receive_message(QueueUrl=resources.queues["deploy"].url).get("Messages", []) == []
    assert resources.env()["SLASHOPS_BACKUP_QUEUE_URL"] == resources.queues["backup"].url
