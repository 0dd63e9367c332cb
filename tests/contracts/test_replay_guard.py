"""The `ReplayGuard` contract: the in-memory fake and the DynamoDB adapter (on moto) answer alike.

The ingress' unit tests run on the fake; this suite is what keeps it honest about the real table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.aws.replay_guard import DynamoDbReplayGuard
from shared.aws.tables import REPLAYS, create_table
from shared.deadline import Deadline
from shared.replay import ReplayGuard, ReplayGuardUnavailableError, SignedRequest
from tests.support.fakes.ingress import MemoryReplayGuard
from tools.local.aws import FAKE_CREDENTIALS

REQUEST = SignedRequest(timestamp=1_790_000_000, signature="v0=" + "a" * 64)
NewGuard = Callable[[], ReplayGuard]
"""A guard as another ingress instance sees it: the same store behind it."""


@pytest.fixture(params=["memory", "dynamodb"])
def new_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[NewGuard]:
    if request.param == "memory":
        shared = MemoryReplayGuard()  # one process: every "instance" shares it
        yield lambda: shared
        return
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, REPLAYS, "replays")
        yield lambda: DynamoDbReplayGuard("replays", client=client)


@pytest.fixture(params=["memory", "dynamodb"])
def unavailable_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplayGuard]:
    if request.param == "memory":
        yield MemoryReplayGuard(unavailable=True)
        return
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():  # no table at all: DynamoDB answers ResourceNotFoundException
        yield DynamoDbReplayGuard("no-such-table", client=boto3.client("dynamodb", region_name="us-east-1"))


def _first(guard: ReplayGuard, command_id: str, request: SignedRequest = REQUEST) -> str | None:
    return guard.first_sighting(request, command_id, deadline=Deadline.after(2.0))


def test_the_first_sighting_wins_and_a_second_instance_learns_its_id(new_guard: NewGuard) -> None:
    assert _first(new_guard(), "aaaaaa111111") is None
    assert _first(new_guard(), "bbbbbb222222") == "aaaaaa111111"
    assert _first(new_guard(), "cccccc333333") == "aaaaaa111111"


def test_another_signature_or_timestamp_is_a_new_request(new_guard: NewGuard) -> None:
    guard = new_guard()
    _first(guard, "aaaaaa111111")
    assert _first(guard, "cccccc333333", SignedRequest(REQUEST.timestamp, "v0=" + "b" * 64)) is None
    assert _first(guard, "dddddd444444", SignedRequest(REQUEST.timestamp + 1, REQUEST.signature)) is None


def test_the_same_command_id_again_is_still_the_first_sighting(new_guard: NewGuard) -> None:
    """A retried write that had landed finds its own id: that is not a replay."""
    guard = new_guard()
    assert _first(guard, "aaaaaa111111") is None
    assert _first(guard, "aaaaaa111111") is None


def test_concurrent_sightings_have_exactly_one_winner(new_guard: NewGuard) -> None:
    answers: dict[str, str | None] = {}

    def sight(command_id: str) -> None:
        answers[command_id] = _first(new_guard(), command_id)

    threads = [threading.Thread(target=sight, args=(f"{index:012d}",)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [winner] = [command_id for command_id, earlier in answers.items() if earlier is None]
    assert {earlier for earlier in answers.values() if earlier is not None} == {winner}


def test_a_guard_that_cannot_tell_raises_so_the_ingress_fails_closed(unavailable_guard: Any) -> None:
    with pytest.raises(ReplayGuardUnavailableError):
        _first(unavailable_guard, "aaaaaa111111")
