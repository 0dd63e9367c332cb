"""The real DynamoDB ledger adapter over moto's in-process DynamoDB (unit tests: no network)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from shared.ledger.dynamodb import DynamoDbLedger, create_table
from tools.local_aws import FAKE_CREDENTIALS


@contextlib.contextmanager
def moto_ledger(monkeypatch: pytest.MonkeyPatch, *, page_size: int = 100) -> Iterator[DynamoDbLedger]:
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "ledger-test")
        yield DynamoDbLedger("ledger-test", client=client, page_size=page_size)
