"""`make run`'s provisioning on its fallback (moto's server for everything): same template, tables, bucket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest

from shared.aws.tables import APPROVALS, DEPLOYS, LEDGER, REPLAYS
from shared.ledger.dynamodb import RECENT_INDEX
from tools.local.aws import Service, running, start_moto
from tools.local.system import LOCAL_BUCKET, provision

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
    ledger = tables.describe_table(TableName=LEDGER.name)["Table"]
    assert [index["IndexName"] for index in ledger["GlobalSecondaryIndexes"]] == [RECENT_INDEX]
    assert tables.describe_table(TableName=DEPLOYS.name)["Table"]["TableStatus"] == "ACTIVE"
    replays = tables.describe_time_to_live(TableName=REPLAYS.name)["TimeToLiveDescription"]
    assert replays["TimeToLiveStatus"] == "ENABLED" and resources.env()[REPLAYS.variable] == REPLAYS.name
    approvals = tables.describe_time_to_live(TableName=APPROVALS.name)["TimeToLiveDescription"]
    assert approvals["AttributeName"] == "forget_at" and approvals["TimeToLiveStatus"] == "ENABLED"
    assert resources.env()[APPROVALS.variable] == APPROVALS.name
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
