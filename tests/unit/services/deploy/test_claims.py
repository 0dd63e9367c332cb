"""The DynamoDB claims store's conditional writes (moto, in process)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from services.deploy.claims import DynamoClaimStore, create_table
from services.deploy.models import ClaimRecord
from shared.events.models import ReplyTarget


@pytest.fixture
def store() -> Iterator[DynamoClaimStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "claims")
        yield DynamoClaimStore("claims", client=client)


def _record(**changes: object) -> ClaimRecord:
    fields: dict[str, object] = {
        "command_id": "3f9c2a7d41b0",
        "claim_token": "t1",
        "claimed_at": 100,
        "job": "deploy-acme",
        "parameters": {"BRANCH": "main", "SLASHOPS_COMMAND_ID": "3f9c2a7d41b0"},
        "id_parameter": "SLASHOPS_COMMAND_ID",
        "client": "acme",
        "env": "staging",
        "branch": "main",
        "requested_by": "U1",
        "reply_to": ReplyTarget(response_url="https://hooks.slack.test/r", channel_id="C1", user_id="U1"),
    }
    return ClaimRecord.model_validate({**fields, **changes})


def test_create_is_conditional_on_the_command_id(store: DynamoClaimStore) -> None:
    assert store.create(_record())
    assert not store.create(_record(claim_token="t2"))
    assert store.get("3f9c2a7d41b0") == _record()
    assert store.get("000000000000") is None


def test_update_applies_only_when_expectations_hold(store: DynamoClaimStore) -> None:
    store.create(_record())

    assert not store.update("3f9c2a7d41b0", {"state": "queued"}, expect={"claim_token": "other"})
    assert store.update("3f9c2a7d41b0", {"state": "queued", "queue_id": 7}, expect={"claim_token": "t1"})
    assert not store.update("3f9c2a7d41b0", {"state": "queued"}, expect={"state": "claimed"})

    record = store.get("3f9c2a7d41b0")
    assert record is not None and (record.state, record.queue_id) == ("queued", 7)


def test_expecting_none_means_the_attribute_is_absent(store: DynamoClaimStore) -> None:
    store.create(_record())

    assert store.update("3f9c2a7d41b0", {"build_number": 3}, expect={"build_number": None})
    assert not store.update("3f9c2a7d41b0", {"build_number": 4}, expect={"build_number": None})
    assert store.update("3f9c2a7d41b0", {"build_number": None}, expect={})
    record = store.get("3f9c2a7d41b0")
    assert record is not None and record.build_number is None


def test_update_of_a_missing_record_fails(store: DynamoClaimStore) -> None:
    assert not store.update("000000000000", {"state": "finished"}, expect={})


def test_table_has_ttl_on_expires_at(store: DynamoClaimStore) -> None:
    ttl = store.client.describe_time_to_live(TableName="claims")["TimeToLiveDescription"]
    assert ttl.get("AttributeName") == "expires_at"
