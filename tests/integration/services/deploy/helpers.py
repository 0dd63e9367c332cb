"""Builders and fakes for the deploy service's tests: requests, SQS records, a recording scheduler."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from services.deploy.consumer import handle_body
from services.deploy.models import FollowMessage
from services.deploy.service import DeployDeps
from shared.events.models import Actor, CommandRequested, Event, Place, ReplyTarget

STARTER = "U0STARTER"
_ids = itertools.count(1)


def requested(
    command: str = "deploy",
    *,
    arguments: dict[str, Any] | None = None,
    command_id: str | None = None,
    user_id: str = STARTER,
    user_name: str = "starter",
) -> CommandRequested:
    if arguments is None:
        arguments = {"client": "acme", "branch": "main", "env": "staging"}
    return CommandRequested(
        command_id=command_id or f"cmd{next(_ids):06d}",
        command=command,
        arguments=arguments,
        actor=Actor(team_id="T1", user_id=user_id, user_name=user_name),
        place=Place(channel_id="C0123", channel_name="ops"),
        reply_to=ReplyTarget(response_url="https://hooks.slack.test/r/1", channel_id="C0123", user_id=user_id),
    )


def eventbridge_body(event: Event) -> str:
    """The SQS body an EventBridge rule delivers: the whole event, `detail` inside."""
    return json.dumps(
        {
            "version": "0",
            "id": "e-1",
            "detail-type": event.detail_type,
            "source": "slashops.ingress",
            "account": "000000000000",
            "time": "2026-11-28T12:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(event.model_dump_json()),
        }
    )


def sqs_event(*bodies: tuple[str, str], receive_count: int = 1) -> dict[str, Any]:
    """A Lambda SQS event; each body is `(message_id, body)`."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"rh-{message_id}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "1764331200000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1764331200000",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:slashops-deploy",
                "awsRegion": "us-east-1",
            }
            for message_id, body in bodies
        ]
    }


@dataclass
class RecordingScheduler:
    """`FollowScheduler` that keeps the messages; `deliver_all` plays them back like SQS would."""

    scheduled: list[tuple[FollowMessage, int]] = field(default_factory=list)
    fail: bool = False

    def schedule(self, message: FollowMessage, delay_seconds: int) -> None:
        if self.fail:
            raise RuntimeError("SQS unavailable")
        self.scheduled.append((message, delay_seconds))

    def pop(self) -> FollowMessage:
        return self.scheduled.pop(0)[0]


def deliver_follows(deps: DeployDeps, scheduler: RecordingScheduler, *, limit: int = 20) -> int:
    """Deliver scheduled follow messages until the chain ends; returns how many steps ran."""
    steps = 0
    while scheduler.scheduled:
        assert steps < limit, "follow chain did not end"
        message = scheduler.pop()
        handle_body(deps, message.model_dump_json(), message_id=f"follow-{next(_ids)}")
        steps += 1
    return steps
