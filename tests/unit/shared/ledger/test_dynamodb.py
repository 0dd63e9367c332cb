"""What only the DynamoDB adapter does (its behaviour as a `Ledger` is tests/contracts/test_ledger.py)."""

from __future__ import annotations

import boto3
import pytest

from shared.ledger.dynamodb import DynamoDbLedger
from shared.ledger.errors import LedgerUnavailableError
from tests.support.events import accepted, at, progress, succeeded
from tests.support.events import command_requested as requested


def test_storage_errors_become_ledger_unavailable(ledger: DynamoDbLedger) -> None:
    missing = DynamoDbLedger("no-such-table", client=boto3.client("dynamodb", region_name="us-east-1"))
    with pytest.raises(LedgerUnavailableError, match="could not be read"):
        missing.get("abc123def456")
    with pytest.raises(LedgerUnavailableError, match="could not be written"):
        missing.record(accepted(), now=at(0))
    with pytest.raises(LedgerUnavailableError):
        list(missing.iter_recent())


def test_a_refused_write_returns_the_stored_item_without_reading_it_again(ledger: DynamoDbLedger) -> None:
    """`ReturnValuesOnConditionCheckFailure=ALL_OLD`: the failed UpdateItem itself brings back the item."""
    ledger.record(requested(), now=at(0))
    done = ledger.record(succeeded(), now=at(5)).entry
    calls: list[str] = []
    ledger.client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    outcome = ledger.record(progress("late", minute=4), now=at(6))

    assert not outcome.applied and outcome.entry == done
    assert calls == ["UpdateItem"]


def test_every_write_is_one_update_item(ledger: DynamoDbLedger) -> None:
    calls: list[str] = []
    ledger.client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    ledger.record(requested(), now=at(0))
    ledger.claim_response_url_use("abc123def456", now=at(1), max_uses=5)
    ledger.mark_notified("abc123def456", "k", route="response_url")
    assert calls == ["UpdateItem"] * 3
