"""One command's life as typed events (requested, accepted, progress, a final result) at fixed times, and the real
ledger adapter on moto, for the ledger, notifier and history tests."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from shared.events.models import (
    Actor,
    CommandAccepted,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandRequested,
    CommandSucceeded,
    Link,
    Place,
    ReplyTarget,
)
from shared.ledger.dynamodb import DynamoDbLedger, create_table
from tools.local_aws import FAKE_CREDENTIALS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reply_to(
    response_url: str = "https://hooks.example/r/1", *, visibility: str = "in_channel", user: str = "U0ABC"
) -> ReplyTarget:
    return ReplyTarget.model_validate(
        {"response_url": response_url, "channel_id": "C0123", "user_id": user, "visibility": visibility}
    )


def requested(
    command_id: str = "abc123def456", *, minute: float = 0, user: str = "U0ABC", **kw: Any
) -> CommandRequested:
    target: ReplyTarget = kw.pop("reply", reply_to(user=user))
    return CommandRequested(
        command_id=command_id,
        command=kw.pop("command", "deploy"),
        arguments=kw.pop("arguments", {"client": "acme", "branch": "main", "env": "staging"}),
        actor=Actor(team_id="T1", user_id=user, user_name=kw.pop("user_name", "example.user")),
        place=Place(channel_id="C0123", channel_name="ops"),
        reply_to=target,
        requested_at=at(minute),
        occurred_at=at(minute),
        long_running=True,
        text="deploy --client acme --branch main",
    )


def _common(command_id: str, minute: float, target: ReplyTarget | None, command: str = "deploy") -> dict[str, Any]:
    return {
        "command_id": command_id,
        "command": command,
        "occurred_at": at(minute),
        "reply_to": target or reply_to(),
        "source": "slashops.deploy",
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


def rejected(
    command_id: str = "abc123def456", *, minute: float = 0.1, reply: ReplyTarget | None = None
) -> CommandRejected:
    return CommandRejected(**_common(command_id, minute, reply), reason="Unknown client `acmee`.", hint="Known: acme.")


_tables = itertools.count(1)


def fresh_ledger(client: DynamoDBClient, *, page_size: int = 100) -> DynamoDbLedger:
    """A new, empty ledger table (unique name) on the DynamoDB `client` points at (moto server, in-process moto)."""
    name = f"ledger-{next(_tables)}"
    create_table(client, name)
    return DynamoDbLedger(name, client=client, page_size=page_size)


@contextlib.contextmanager
def moto_ledger(monkeypatch: pytest.MonkeyPatch, *, page_size: int = 100) -> Iterator[DynamoDbLedger]:
    """The real DynamoDB ledger adapter over moto's in-process DynamoDB (no network, no server)."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield fresh_ledger(boto3.client("dynamodb", region_name="us-east-1"), page_size=page_size)
