"""The ingress as deployed (`chalicelib.deps`' real wiring from the environment), one Lambda instance per call.

boto3 finds the endpoints through `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB`, exactly as in `make run`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
import pytest
from chalice.test import Client

from app import create_app
from chalicelib import bootstrap as composition
from shared.aws.tables import APPROVALS, LOCKS, REPLAYS, create_table
from tests.support.ingress import SEED_RULES, message_text
from tests.support.slack import SIGNING_SECRET


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    seconds: float


Send = Callable[[bytes, dict[str, str]], Answer]


class Instance(Protocol):
    """A fresh ingress sending its events to `events_endpoint`, on the shared replay table or on `replay_table`."""

    def __call__(self, events_endpoint: str, replay_table: str | None = None) -> Send: ...


def new_replay_table(dynamodb_endpoint: str) -> str:
    name = f"replays-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb", endpoint_url=dynamodb_endpoint), REPLAYS, name)
    return name


@contextmanager
def ingress_instances(
    monkeypatch: pytest.MonkeyPatch, config_dir: Path, *, dynamodb_endpoint: str, config_text: str = SEED_RULES
) -> Iterator[Instance]:
    """Yields `instance(events_endpoint, replay_table=None)`: a fresh ingress (its own clients and caches) on a
    shared replay table (or the one named: one that does not exist is a guard that cannot answer)."""
    config = config_dir / "slashops.json"
    config.write_text(config_text)
    table = new_replay_table(dynamodb_endpoint)
    locks = f"locks-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb", endpoint_url=dynamodb_endpoint), LOCKS, locks)
    approvals = f"approvals-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb", endpoint_url=dynamodb_endpoint), APPROVALS, approvals)

    def instance(events_endpoint: str, replay_table: str | None = None) -> Send:
        for name, value in {
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLASHOPS_CONFIG": str(config),
            "SLASHOPS_EVENT_BUS": "slashops",
            "SLASHOPS_REPLAY_TABLE": replay_table or table,
            "SLASHOPS_LOCK_TABLE": locks,
            "SLASHOPS_APPROVAL_TABLE": approvals,
            "AWS_ENDPOINT_URL": events_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        }.items():
            monkeypatch.setenv(name, value)
        composition.settings.cache_clear()
        composition.ingress_deps.cache_clear()
        deps = composition.ingress_deps()  # this instance's wiring, built now from this environment
        app = create_app(deps=lambda: deps)

        def send(body: bytes, headers: dict[str, str]) -> Answer:
            with Client(app) as client:
                started = time.monotonic()
                response = client.http.post("/slack/commands", headers=headers, body=body)
                seconds = time.monotonic() - started
            return Answer(response.status_code, message_text(json.loads(response.body)), seconds)

        return send

    try:
        yield instance
    finally:
        composition.settings.cache_clear()
        composition.ingress_deps.cache_clear()


@contextmanager
def counted_bus(endpoint: str) -> Iterator[Callable[[], list[str]]]:
    """A bus named `slashops` (moto's server), every CommandRequested routed to a queue; yields `published_ids()`."""
    events = boto3.client("events", endpoint_url=endpoint)
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    queue_url = sqs.create_queue(QueueName=f"commands-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="slashops")
    pattern = json.dumps({"detail-type": ["CommandRequested"]})
    events.put_rule(Name="all-commands", EventBusName="slashops", EventPattern=pattern)
    events.put_targets(Rule="all-commands", EventBusName="slashops", Targets=[{"Id": "q", "Arn": queue_arn}])

    def published_ids() -> list[str]:
        ids: list[str] = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                ids.append(_command_id(message))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return ids

    try:
        yield published_ids
    finally:
        events.remove_targets(Rule="all-commands", EventBusName="slashops", Ids=["q"])
        events.delete_rule(Name="all-commands", EventBusName="slashops")
        events.delete_event_bus(Name="slashops")
        sqs.delete_queue(QueueUrl=queue_url)


def _command_id(message: dict[str, Any]) -> str:
    return str(json.loads(message["Body"])["detail"]["command_id"])
