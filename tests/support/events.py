"""One builder per event and per AWS wrapper, and the real payloads in tests/events/ they start from.

- `command_requested(...)`, `accepted/progress/succeeded/failed/cancelled/rejected(...)`,
  `approval_requested/decided(...)`, `approved_by(...)`: typed slashops events.
- `eventbridge_envelope(event, source=...)` / `eventbridge_body(...)`: the event as an EventBridge rule delivers
  it to SQS (tests/events/eventbridge_command_requested.json with this event inside).
- `sqs_record(body, receive_count=...)` / `sqs_event(*records)`: the Lambda SQS event
  (tests/events/sqs_lambda_event.json with these bodies).
- `api_gateway_request(body, headers)`: the API Gateway proxy event Chalice's Lambda gets for a slash command
  (tests/events/apigateway_slash_command.json with this body and these headers).
- `load_event(name)`: any of those files, parsed; a fresh copy each time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from shared.events.models import (
    Actor,
    Approval,
    ApprovalDecided,
    ApprovalOutcome,
    ApprovalRequested,
    CommandAccepted,
    CommandCancelled,
    CommandFailed,
    CommandProgress,
    CommandRefused,
    CommandRejected,
    CommandRequested,
    CommandSucceeded,
    Event,
    Link,
    Place,
    ReplyTarget,
)

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RESULT_SOURCE = "slashops.deploy"


@cache
def _read(name: str) -> str:
    return (EVENTS_DIR / f"{name}.json").read_text()


def load_event(name: str) -> Any:
    """tests/events/<name>.json, parsed (a new object each call: callers may change it)."""
    return json.loads(_read(name))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reply_to(
    response_url: str = "https://hooks.example/r/1", *, visibility: str = "in_channel", user: str = "U0ABC"
) -> ReplyTarget:
    return ReplyTarget.model_validate(
        {"response_url": response_url, "channel_id": "C0123", "user_id": user, "visibility": visibility}
    )


def command_requested(
    command_id: str = "abc123def456",
    *,
    command: str = "deploy",
    arguments: dict[str, Any] | None = None,
    user: str = "U0ABC",
    user_name: str = "example.user",
    minute: float = 0,
    reply: ReplyTarget | None = None,
    **fields: Any,
) -> CommandRequested:
    """A `CommandRequested` as the ingress publishes it; any other field through `fields`."""
    values: dict[str, Any] = {
        "command_id": command_id,
        "command": command,
        "arguments": {"client": "acme", "branch": "main", "env": "staging"} if arguments is None else arguments,
        "actor": Actor(team_id="T1", user_id=user, user_name=user_name),
        "place": Place(channel_id="C0123", channel_name="ops"),
        "reply_to": reply or reply_to(user=user),
        "requested_at": at(minute),
        "occurred_at": at(minute),
        "long_running": True,
        "text": "deploy --client acme --branch main",
    }
    values.update(fields)
    return CommandRequested(**values)


def _common(command_id: str, minute: float, target: ReplyTarget | None, command: str = "deploy") -> dict[str, Any]:
    return {
        "command_id": command_id,
        "command": command,
        "occurred_at": at(minute),
        "reply_to": target or reply_to(),
        "source": RESULT_SOURCE,
    }


def accepted(
    command_id: str = "abc123def456", *, minute: float = 0.1, reply: ReplyTarget | None = None
) -> CommandAccepted:
    return CommandAccepted(**_common(command_id, minute, reply), message="Build #42 queued.")


def progress(
    message: str,
    *,
    command_id: str = "abc123def456",
    minute: float = 1,
    percent: int | None = None,
    reply: ReplyTarget | None = None,
) -> CommandProgress:
    return CommandProgress(**_common(command_id, minute, reply), message=message, percent=percent)


def succeeded(
    command_id: str = "abc123def456", *, minute: float = 5, output: str = "", reply: ReplyTarget | None = None
) -> CommandSucceeded:
    return CommandSucceeded(
        **_common(command_id, minute, reply),
        summary="Deployed acme main to staging.",
        links=(Link(label="Build #42", url="https://jenkins.example/job/acme/42/"),),
        duration_seconds=300.5,
        output=output,
    )


def failed(command_id: str = "abc123def456", *, minute: float = 5, reply: ReplyTarget | None = None) -> CommandFailed:
    return CommandFailed(
        **_common(command_id, minute, reply),
        reason="Build #42 failed at stage test.",
        retryable=True,
        links=(Link(label="Console", url="https://jenkins.example/job/acme/42/console"),),
    )


def cancelled(
    command_id: str = "abc123def456",
    *,
    minute: float = 5,
    by: str = "U0BOB",
    reply: ReplyTarget | None = None,
    duration: float | None = 95.0,
) -> CommandCancelled:
    return CommandCancelled(
        **_common(command_id, minute, reply),
        reason=f"Build #42 of `main` of *acme* to *staging* was cancelled by <@{by}>.",
        cancelled_by=by,
        links=(Link(label="Build #42", url="https://jenkins.example/job/acme/42/"),),
        duration_seconds=duration,
    )


def rejected(
    command_id: str = "abc123def456", *, minute: float = 0.1, reply: ReplyTarget | None = None
) -> CommandRejected:
    return CommandRejected(**_common(command_id, minute, reply), reason="Unknown client `acmee`.", hint="Known: acme.")


def refused(
    command_id: str = "5e1f00d00d5e",
    *,
    minute: float = 0,
    user: str = "U0ABC",
    user_name: str = "example.user",
    command: str = "deploy",
    decision: str = "not allowed",
    rule: int | None = None,
) -> CommandRefused:
    """A `CommandRefused` as the ingress publishes it (no reply target: nothing to post, no response_url)."""
    return CommandRefused.model_validate(
        {
            "command_id": command_id,
            "command": command,
            "actor": Actor(team_id="T1", user_id=user, user_name=user_name),
            "place": Place(channel_id="C0123", channel_name="ops"),
            "text": f"{command} --client acme --branch main --env production",
            "decision": decision,
            "reason": f"You are not allowed to run `{command}`.",
            "rule": rule,
            "requested_at": at(minute),
            "occurred_at": at(minute),
        }
    )


def eventbridge_envelope(event: Event, *, source: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    """`event` as EventBridge delivers it to a rule's SQS target: the whole envelope, `detail` inside.

    `source` defaults to the event's own (`slashops.<service>` for results, `slashops.ingress` for requests).
    """
    envelope = load_event("eventbridge_command_requested")
    envelope.update(
        {
            "id": event_id or f"eb-{event.command_id}-{event.detail_type}",
            "detail-type": event.detail_type,
            "source": source or getattr(event, "source", "slashops.ingress"),
            "time": event.occurred_at.isoformat(),
            "detail": json.loads(event.model_dump_json()),
        }
    )
    return envelope


def eventbridge_body(event: Event, *, source: str | None = None) -> str:
    """The SQS message body an EventBridge rule delivers (the envelope as JSON)."""
    return json.dumps(eventbridge_envelope(event, source=source))


def sqs_record(body: str, message_id: str = "msg-0", *, receive_count: int = 1) -> dict[str, Any]:
    """One record of a Lambda SQS event carrying `body`, on its `receive_count`-th delivery."""
    [record] = load_event("sqs_lambda_event")["Records"]
    record.update({"messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": body})
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return dict(record)


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    """A Lambda SQS event (a batch) of these records."""
    return {"Records": list(records)}


def api_gateway_request(body: bytes, headers: dict[str, str], *, received_at_ms: int | None = None) -> dict[str, Any]:
    """The API Gateway proxy event for a POST of `body` with `headers` (as the Chalice Lambda receives it)."""
    event = load_event("apigateway_slash_command")
    merged = {**{k: v for k, v in event["headers"].items() if not k.lower().startswith("x-slack")}, **headers}
    event.update({"body": body.decode(), "headers": merged, "multiValueHeaders": {k: [v] for k, v in merged.items()}})
    if received_at_ms is not None:
        event["requestContext"]["requestTimeEpoch"] = received_at_ms
    return dict(event)


def sqs_batch(*items: tuple[str, str] | Event | str, receive_count: int = 1) -> dict[str, Any]:
    """A Lambda SQS event, every record on its `receive_count`-th delivery.

    An item is a `(message_id, body)` pair, an event (sent as the EventBridge body a rule delivers), or a plain
    string sent as a raw body (a malformed message); the last two get ids `msg-<index>`.
    """
    records = []
    for index, item in enumerate(items):
        if isinstance(item, tuple):
            message_id, body = item
        else:
            message_id, body = f"msg-{index}", item if isinstance(item, str) else eventbridge_body(item)
        records.append(sqs_record(body, message_id, receive_count=receive_count))
    return sqs_event(*records)


def approval_requested(command_id: str = "abc123def456", *, minute: float = 0, **fields: Any) -> ApprovalRequested:
    """A production deploy held for approval by U0BOB (rule #2) for 30 minutes, as the ingress publishes it."""
    values: dict[str, Any] = {
        "command_id": command_id,
        "command": "deploy",
        "arguments": {"client": "acme", "branch": "main", "env": "production"},
        "actor": Actor(team_id="T1", user_id="U0ABC", user_name="example.user"),
        "place": Place(channel_id="C0123", channel_name="ops"),
        "text": "deploy --client acme --branch main --env production",
        "rule": 2,
        "approvers": ("U0BOB", "group:S0SRE"),
        "expires_at": at(minute + 30),
        "requested_at": at(minute),
        "occurred_at": at(minute),
    }
    values.update(fields)
    return ApprovalRequested(**values)


def approval_decided(
    command_id: str = "abc123def456", decision: ApprovalOutcome = "approved", *, by: str = "U0BOB", minute: float = 5
) -> ApprovalDecided:
    return ApprovalDecided(
        command_id=command_id,
        command="deploy",
        decision=decision,
        decided_by=by,
        decided_by_name=by.lower(),
        decided_at=at(minute),
        occurred_at=at(minute),
    )


def approved_by(by: str = "U0BOB", *, minute: float = 5) -> Approval:
    """What a `CommandRequested` run on approval carries."""
    return Approval(approver_id=by, approver_name=by.lower(), approved_at=at(minute), rule=2)
