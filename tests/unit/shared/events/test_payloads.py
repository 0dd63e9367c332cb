"""The shared payload builders (tests/support/events.py) read back by the production parsers, as AWS delivers them."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.envelope import parse_eventbridge_json
from shared.sqs_lambda import SqsMessage, handle_sqs_batch
from tests.support.events import (
    command_requested,
    eventbridge_body,
    load_event,
    sqs_event,
    sqs_record,
    succeeded,
)


@dataclass
class Context:
    aws_request_id: str = "req-1"


def test_the_recorded_sqs_event_carries_a_command_requested_that_rebuilds_unchanged() -> None:
    [record] = load_event("sqs_lambda_event")["Records"]
    event = parse_eventbridge_json(record["body"])
    assert event.command_id == "abc123def456" and event.detail_type == "CommandRequested"
    assert parse_eventbridge_json(eventbridge_body(event)) == event


def test_built_envelopes_carry_the_event_and_its_source() -> None:
    request, result = command_requested("cmd000000001"), succeeded("cmd000000001")
    assert parse_eventbridge_json(eventbridge_body(request)) == request
    assert parse_eventbridge_json(eventbridge_body(result)) == result
    assert '"source": "slashops.deploy"' in eventbridge_body(result)
    assert '"source": "slashops.notifier"' in eventbridge_body(result, source="slashops.notifier")


def test_built_sqs_records_reach_a_consumer_with_their_receive_count() -> None:
    seen: list[SqsMessage] = []
    batch = sqs_event(
        sqs_record(eventbridge_body(command_requested()), message_id="m1", receive_count=5),
        sqs_record("not json", message_id="m2"),
    )
    handle_sqs_batch(batch, Context(), seen.append, max_receive_count=5)
    assert [(m.message_id, m.receive_count, m.last_attempt) for m in seen] == [("m1", 5, True), ("m2", 1, False)]
    assert parse_eventbridge_json(seen[0].body) == command_requested()
