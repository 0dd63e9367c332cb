from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.aws.eventbridge import EventBridgePublisher
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget
from shared.events.publisher import PublishError


def _event(command_id: str = "abc123def456") -> CommandRequested:
    return CommandRequested(
        command_id=command_id,
        command="deploy",
        arguments={"client": "acme"},
        actor=Actor(team_id="T1", user_id="U1"),
        place=Place(channel_id="C1"),
        reply_to=ReplyTarget(response_url="https://hooks.slack.com/x", channel_id="C1", user_id="U1"),
    )


class FlakyEvents:
    """An EventBridge client whose first answers report failed entries."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls: list[list[dict[str, str]]] = []

    def put_events(self, Entries: list[dict[str, str]]) -> Any:  # noqa: N803 (boto3's spelling)
        self.calls.append(Entries)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_partial_failure_retries_only_failed_entries() -> None:
    client = FlakyEvents(
        [
            {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "x"}],
            },
            {"FailedEntryCount": 0, "Entries": [{"EventId": "2"}]},
        ]
    )
    publisher = EventBridgePublisher("bus", "src", client=client, sleep=lambda _: None)  # type: ignore[arg-type]
    publisher.publish([_event("aaaaaa111111"), _event("bbbbbb222222")])
    assert len(client.calls) == 2
    assert len(client.calls[1]) == 1 and "bbbbbb222222" in client.calls[1][0]["Detail"]


def test_gives_up_after_attempts_with_the_reason() -> None:
    failing = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}]}
    client = FlakyEvents([failing, ConnectionError("reset"), failing])
    publisher = EventBridgePublisher("bus", "src", client=client, sleep=lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(PublishError, match="ThrottlingException"):
        publisher.publish([_event()])
    assert len(client.calls) == 3


@mock_aws
def test_puts_typed_event_on_a_real_api_shape() -> None:
    client = boto3.client("events", region_name="us-east-1")
    client.create_event_bus(Name="slashops")
    EventBridgePublisher("slashops", "slashops.ingress", client=client).publish([_event()])
