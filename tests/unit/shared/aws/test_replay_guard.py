"""The DynamoDB replay guard: the first sighting wins everywhere; a second one learns the first command id."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from shared.aws.replay_guard import DynamoDbReplayGuard, create_table
from shared.deadline import Deadline
from shared.replay import REMEMBER_SECONDS, MemoryReplayGuard, ReplayGuardUnavailableError, SignedRequest

REQUEST = SignedRequest(timestamp=1_790_000_000, signature="v0=" + "a" * 64)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "replays")
        yield client


def _deadline() -> Deadline:
    return Deadline.after(2.0)


def test_first_sighting_is_recorded_and_a_second_names_the_first_id(dynamodb: Any) -> None:
    first, second = (DynamoDbReplayGuard("replays", client=dynamodb) for _ in range(2))  # two Lambda instances
    assert first.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline()) is None
    assert second.first_sighting(REQUEST, "bbbbbb222222", deadline=_deadline()) == "aaaaaa111111"


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


def test_another_signature_or_timestamp_is_a_new_request(dynamodb: Any) -> None:
    guard = DynamoDbReplayGuard("replays", client=dynamodb)
    guard.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline())
    other_signature = SignedRequest(REQUEST.timestamp, "v0=" + "b" * 64)
    other_time = SignedRequest(REQUEST.timestamp + 1, REQUEST.signature)
    assert guard.first_sighting(other_signature, "cccccc333333", deadline=_deadline()) is None
    assert guard.first_sighting(other_time, "dddddd444444", deadline=_deadline()) is None


def test_the_item_holds_a_hash_the_command_id_and_its_ttl_only(dynamodb: Any) -> None:
    DynamoDbReplayGuard("replays", client=dynamodb).first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline())
    [item] = dynamodb.scan(TableName="replays")["Items"]
    assert set(item) == {"request_key", "command_id", "expires_at"}
    assert REQUEST.signature not in str(item) and len(item["request_key"]["S"]) == 64
    assert int(item["expires_at"]["N"]) == REQUEST.timestamp + REMEMBER_SECONDS
    ttl = dynamodb.describe_time_to_live(TableName="replays")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expires_at"


def test_a_retried_put_that_finds_its_own_id_is_still_the_first_sighting(dynamodb: Any) -> None:
    guard = DynamoDbReplayGuard("replays", client=dynamodb)
    guard.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline())
    assert guard.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline()) is None


class UnreachableDynamoDb:
    exceptions = SimpleNamespace(ConditionalCheckFailedException=type("ConditionalCheckFailed", (Exception,), {}))

    def put_item(self, **_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")


def test_an_unreachable_table_raises_so_the_caller_fails_closed() -> None:
    guard = DynamoDbReplayGuard("replays", client=UnreachableDynamoDb())  # type: ignore[arg-type]
    with pytest.raises(ReplayGuardUnavailableError, match="EndpointConnectionError"):
        guard.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline())


def test_the_memory_fake_behaves_like_the_table() -> None:
    guard = MemoryReplayGuard()
    assert guard.first_sighting(REQUEST, "aaaaaa111111", deadline=_deadline()) is None
    assert guard.first_sighting(REQUEST, "bbbbbb222222", deadline=_deadline()) == "aaaaaa111111"
