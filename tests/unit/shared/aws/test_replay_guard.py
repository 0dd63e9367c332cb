"""What only the DynamoDB replay guard does: one call per sighting, what the item holds, an unreachable table.

What every `ReplayGuard` does (first sighting wins, replays name the first id) is tests/contracts/test_replay_guard.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from shared.aws.replay_guard import DynamoDbReplayGuard
from shared.aws.tables import REPLAYS, create_table
from shared.deadline import Deadline
from shared.replay import REMEMBER_SECONDS, ReplayGuardUnavailableError, SignedRequest

REQUEST = SignedRequest(timestamp=1_790_000_000, signature="v0=" + "a" * 64)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, REPLAYS, "replays")
        yield client


def _deadline() -> Deadline:
    return Deadline.after(2.0)


class CountingClient:
    """The real (moto) client, counting the calls the guard makes."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def counted(**kwargs: Any) -> Any:
            self.calls.append(name)
            return method(**kwargs)

        return counted


def test_a_replay_costs_one_put_and_no_read(dynamodb: Any) -> None:
    client = CountingClient(dynamodb)
    guard = DynamoDbReplayGuard("replays", client=client)  # type: ignore[arg-type]
    guard.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline())
    assert guard.first_sighting(REQUEST, "bbbbbb222222", deadline=_deadline()) == "aaaaaa111111"
    assert client.calls == ["put_item", "put_item"]


def test_the_item_holds_a_hash_the_command_id_and_its_ttl_only(dynamodb: Any) -> None:
    DynamoDbReplayGuard("replays", client=dynamodb).first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline())
    [item] = dynamodb.scan(TableName="replays")["Items"]
    assert set(item) == {"request_key", "command_id", "expires_at"}
    assert REQUEST.signature not in str(item) and len(item["request_key"]["S"]) == 64
    assert int(item["expires_at"]["N"]) == REQUEST.timestamp + REMEMBER_SECONDS
    ttl = dynamodb.describe_time_to_live(TableName="replays")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expires_at"


class UnreachableDynamoDb:
    exceptions = SimpleNamespace(ConditionalCheckFailedException=type("ConditionalCheckFailed", (Exception,), {}))

    def put_item(self, **_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")


def test_an_unreachable_table_raises_so_the_caller_fails_closed() -> None:
    guard = DynamoDbReplayGuard("replays", client=UnreachableDynamoDb())  # type: ignore[arg-type]
    with pytest.raises(ReplayGuardUnavailableError, match="EndpointConnectionError"):
        guard.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline())
