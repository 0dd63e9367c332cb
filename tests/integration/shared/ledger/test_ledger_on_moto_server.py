"""The ledger adapter over moto's DynamoDB server (the same HTTP path as AWS and `make run`)."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import boto3
import pytest

from shared.aws.tables import LEDGER, create_table
from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.events import accepted, at, command_requested, failed, progress, succeeded
from tools.local.aws import Service

_names = itertools.count(1)


@pytest.fixture
def ledger(moto_server: Service) -> DynamoDbLedger:
    client: Any = boto3.client("dynamodb", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    name = f"ledger-it-{next(_names)}"
    create_table(client, LEDGER, name)
    assert client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    return DynamoDbLedger(name, client=client, page_size=2)


def test_events_in_any_order_and_repeated_end_in_the_same_state(ledger: DynamoDbLedger) -> None:
    events = [succeeded(minute=5), progress("90%", minute=4), accepted(), command_requested(), succeeded(minute=5)]
    events += [progress("10%", minute=1), failed(minute=6), command_requested()]
    applied = [ledger.record(event, now=at(10)).applied for event in events]

    assert applied == [True, False, False, True, False, False, False, True]
    entry = ledger.get("abc123def456")
    assert entry is not None
    assert (entry.state, entry.last_message, entry.user_name) == (
        "succeeded",
        "Deployed acme main to staging.",
        "example.user",
    )
    assert entry.last_event_key == "CommandSucceeded@2026-11-28T12:05:00+00:00"


def test_concurrent_claims_never_exceed_five_uses(ledger: DynamoDbLedger) -> None:
    """Many racing claims, round after round: DynamoDB applies each conditional write atomically, so must this."""
    for round_number in range(4):
        command_id = f"race{round_number:08d}"
        ledger.record(command_requested(command_id), now=at(0))
        claim = partial(ledger.claim_response_url_use, now=at(1), max_uses=5)
        with ThreadPoolExecutor(max_workers=16) as pool:
            claims = list(pool.map(claim, [command_id] * 48))
        assert claims.count(True) == 5, f"round {round_number}"
        entry = ledger.get(command_id)
        assert entry is not None and entry.response_url_uses == 5


def test_history_pages_through_the_index_newest_first(ledger: DynamoDbLedger) -> None:
    for index in range(5):
        ledger.record(command_requested(f"cmd{index:09d}", minute=index), now=at(index))
    ledger.record(succeeded("cmd000000001", minute=10), now=at(10))
    assert [e.command_id[-1] for e in ledger.iter_recent()] == ["4", "3", "2", "1", "0"]
    assert [e.state for e in ledger.iter_recent(user="U0ABC")][3] == "succeeded"
