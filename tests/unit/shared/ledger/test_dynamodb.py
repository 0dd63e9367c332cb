"""What only the DynamoDB adapter does (its behaviour as a `Ledger` is tests/contracts/test_ledger.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from shared.ledger.dynamodb import DynamoDbLedger
from shared.ledger.errors import LedgerUnavailableError
from tests.support.events import accepted, at, progress, refused, succeeded
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


def test_every_write_is_one_call_a_new_command_a_put(ledger: DynamoDbLedger) -> None:
    calls: list[str] = []
    ledger.client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    ledger.record(requested(), now=at(0))
    ledger.claim_response_url_use("abc123def456", now=at(1), max_uses=5)
    ledger.mark_notified("abc123def456", "k", route="response_url")
    ledger.record(refused(), now=at(2))
    assert calls == ["PutItem", "UpdateItem", "UpdateItem", "PutItem"]


def test_a_request_after_its_result_is_an_update_that_keeps_the_result(ledger: DynamoDbLedger) -> None:
    """The put is refused (the command exists) and the update fills in the request's facts, never going back."""
    ledger.record(succeeded(), now=at(5))
    calls: list[str] = []
    ledger.client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    entry = ledger.record(requested(), now=at(6)).entry

    assert calls == ["PutItem", "UpdateItem"]
    assert (entry.state, entry.user_name, entry.requested_at) == ("succeeded", "example.user", at(0))
    assert ledger.record_only(requested(), now=at(7)) and calls[2:] == ["PutItem", "UpdateItem"]


def _requests(ledger: DynamoDbLedger) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    ledger.client.meta.events.register(
        "provide-client-params.dynamodb.UpdateItem", lambda params, **_: sent.append(params)
    )
    return sent


def test_a_result_for_a_known_command_is_one_update_without_the_first_sighting_defaults(
    ledger: DynamoDbLedger,
) -> None:
    """moto parses every clause in Python (milliseconds each): the `if_not_exists` defaults only when they can apply."""
    ledger.record(requested(), now=at(0))
    sent = _requests(ledger)

    entry = ledger.record(progress("10%", minute=1), now=at(1)).entry

    assert len(sent) == 1 and "if_not_exists" not in sent[0]["UpdateExpression"]
    assert entry.state == "running" and entry.user_name == "example.user"


def test_the_first_result_of_an_unknown_command_takes_a_second_update_with_the_defaults(
    ledger: DynamoDbLedger,
) -> None:
    sent = _requests(ledger)

    entry = ledger.record(progress("10%", minute=1), now=at(1)).entry

    assert len(sent) == 2 and "if_not_exists" in sent[1]["UpdateExpression"]
    assert (entry.state, entry.user_id, entry.channel_id, entry.visibility) == (
        "running",
        "U0ABC",
        "C0123",
        "in_channel",
    )


def test_only_record_reads_the_command_back(ledger: DynamoDbLedger) -> None:
    """A write whose caller needs only "applied or not" asks for no item back (moto serializes it in Python)."""
    sent = _requests(ledger)
    puts: list[dict[str, Any]] = []
    ledger.client.meta.events.register(
        "provide-client-params.dynamodb.PutItem", lambda params, **_: puts.append(params)
    )
    ledger.record_only(requested(), now=at(0))
    ledger.claim_response_url_use("abc123def456", now=at(1), max_uses=5)
    ledger.claim_parent("abc123def456", now=at(1), stale_after=timedelta(seconds=60))
    ledger.record_parent("abc123def456", "C0123", "1.2")
    ledger.mark_notified("abc123def456", "k", route="thread")
    ledger.record(accepted(), now=at(2))

    assert [request.get("ReturnValues", "NONE") for request in puts + sent] == ["NONE"] * 5 + ["ALL_NEW"]
