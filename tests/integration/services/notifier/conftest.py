"""The notifier against a local Slack (tools/fake_slack.py, through the real slack-sdk clients) and
the ledger on moto's DynamoDB server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from services.notifier.handler import handle_batch
from services.notifier.service import NotifierDeps
from services.notifier.slack_adapter import SlackSdkAdapter
from shared.events.models import Event, ReplyTarget
from shared.ledger.dynamodb import DynamoDbLedger, create_table
from tests.unit.services.notifier.fakes import Clock
from tests.unit.services.notifier.sqs_events import sqs_batch
from tests.unit.shared.ledger.builders import at, reply_to
from tools.fake_slack import FakeSlack
from tools.local_aws import Service

_tables = itertools.count(1)


@pytest.fixture(scope="session")
def dynamodb(moto_server: Service) -> Any:
    return boto3.client("dynamodb", endpoint_url=moto_server.endpoint, region_name="us-east-1")


@pytest.fixture
def ledger(dynamodb: Any) -> DynamoDbLedger:
    name = f"ledger-{next(_tables)}"
    create_table(dynamodb, name)
    return DynamoDbLedger(name, client=dynamodb)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@dataclass
class Notifier:
    """The notifier's batch entry over real adapters; `sleeps` records the Retry-After waits."""

    slack: FakeSlack
    ledger: DynamoDbLedger
    clock: Clock
    deps: NotifierDeps
    response_url: str
    sleeps: list[float] = field(default_factory=list)

    def reply_to(self, visibility: str = "in_channel") -> ReplyTarget:
        return reply_to(self.response_url, visibility=visibility)

    def send(self, *events: Event | str) -> list[str]:
        """Deliver one SQS batch; returns the ids SQS would redeliver."""
        response = handle_batch(sqs_batch(*events), None, self.deps)
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


@pytest.fixture
def notifier(fake_slack: FakeSlack, ledger: DynamoDbLedger) -> Notifier:
    clock = Clock(at(0))
    sleeps: list[float] = []
    adapter = SlackSdkAdapter(lambda: fake_slack.bot_token, api_url=fake_slack.api_url, sleep=sleeps.append)
    deps = NotifierDeps(ledger=ledger, slack=adapter, now=clock)
    return Notifier(fake_slack, ledger, clock, deps, fake_slack.response_url(), sleeps)
