"""Backup-worker test helpers: an in-memory queue and messages as the EventBridge rule delivers them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from services.backup.ports import QueueMessage
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget


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


def request_message(command: str, receipt: str = "r-1", **arguments: object) -> QueueMessage:
    """An SQS message as the EventBridge rule delivers it: the whole event, the command in `detail`."""
    event = CommandRequested(
        command_id=uuid.uuid4().hex[:12],
        command=command,
        arguments=arguments,  # type: ignore[arg-type]
        actor=Actor(team_id="T1", user_id="U0ABC", user_name="example.user"),
        place=Place(channel_id="C0123", channel_name="ops"),
        reply_to=ReplyTarget(response_url="https://hooks.slack.com/x", channel_id="C0123", user_id="U0ABC"),
    )
    envelope = {
        "source": "slashops.ingress",
        "detail-type": "CommandRequested",
        "detail": event.model_dump(mode="json"),
    }
    return QueueMessage(body=json.dumps(envelope), receipt_handle=receipt)
