"""Backup-worker test helpers: an in-memory queue and messages as the EventBridge rule delivers them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from services.backup.ports import QueueMessage
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget
from tests.support.fakes import StaticConfig

#: access rules admitting the test user (U0ABC in #ops) to every backup command
ADMIT_ALL = '{"command": "*"}'


def open_config() -> StaticConfig:
    return StaticConfig.from_text(ADMIT_ALL)


@dataclass
class FakeQueue:
    """In-memory `JobQueue` (SQS itself is exercised in test_worker_on_sqs.py)."""

    messages: list[QueueMessage] = field(default_factory=list)
    extended: list[int] = field(default_factory=list)

    def receive(self, wait_seconds: int) -> list[QueueMessage]:
        return [self.messages.pop(0)] if self.messages else []

    def delete(self, message: QueueMessage) -> None:
        pass

    def extend(self, message: QueueMessage, seconds: int) -> None:
        self.extended.append(seconds)

    def release(self, message: QueueMessage) -> None:
        self.messages.append(message)


def request_message(
    command: str,
    receipt: str = "r-1",
    *,
    user_id: str = "U0ABC",
    channel_id: str = "C0123",
    source: str = "slashops.ingress",
    command_id: str | None = None,
    **arguments: object,
) -> QueueMessage:
    """An SQS message as the EventBridge rule delivers it: the whole event, the command in `detail`."""
    event = CommandRequested(
        command_id=command_id or uuid.uuid4().hex[:12],
        command=command,
        arguments=arguments,  # type: ignore[arg-type]
        actor=Actor(team_id="T1", user_id=user_id, user_name="example.user" if user_id == "U0ABC" else ""),
        place=Place(channel_id=channel_id, channel_name="ops" if channel_id == "C0123" else ""),
        reply_to=ReplyTarget(response_url="https://hooks.slack.com/x", channel_id=channel_id, user_id=user_id),
    )
    envelope = {
        "source": source,
        "detail-type": "CommandRequested",
        "detail": event.model_dump(mode="json"),
    }
    return QueueMessage(body=json.dumps(envelope), receipt_handle=receipt)
