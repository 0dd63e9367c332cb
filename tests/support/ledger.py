"""The real DynamoDB ledger adapter on moto, for the ledger, notifier and history tests (no server, no network)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from shared.aws.tables import LEDGER, create_table
from shared.ledger.dynamodb import DynamoDbLedger
from tools.local.aws import FAKE_CREDENTIALS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_tables = itertools.count(1)


def fresh_ledger(client: DynamoDBClient, *, page_size: int = 100) -> DynamoDbLedger:
    """A new, empty ledger table (unique name) on the DynamoDB `client` points at (moto server, in-process moto)."""
    name = f"ledger-{next(_tables)}"
    create_table(client, LEDGER, name)
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
