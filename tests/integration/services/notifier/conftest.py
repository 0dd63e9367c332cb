"""The notifier against a local Slack (tools/fakes/slack.py, through the real slack-sdk clients) and
the ledger on moto's DynamoDB server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.ledger import fresh_ledger
from tests.support.notifier_stack import Notifier, wired_notifier
from tools.fakes.slack import FakeSlack
from tools.local.aws import Service


@pytest.fixture(scope="session")
def dynamodb(moto_server: Service) -> Any:
    return boto3.client("dynamodb", endpoint_url=moto_server.endpoint, region_name="us-east-1")


@pytest.fixture
def ledger(dynamodb: Any) -> DynamoDbLedger:
    return fresh_ledger(dynamodb)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def notifier(fake_slack: FakeSlack, ledger: DynamoDbLedger) -> Notifier:
    return wired_notifier(fake_slack, ledger)
