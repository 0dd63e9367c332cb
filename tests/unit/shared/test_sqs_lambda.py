"""The shared SQS-Lambda handler: partial failures, the last-attempt flag, and the command id on every log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shared.logs import bind_command_id, json_handler
from shared.sqs_lambda import SqsMessage, handle_sqs_batch
from tests.support.fakes.metrics import RecordingMetrics
from tools.local.sqs_runner import lambda_event


def batch(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    messages = [
        {
            "MessageId": f"m{index}",
            "ReceiptHandle": f"r{index}",
            "Body": body,
            "Attributes": {"ApproximateReceiveCount": str(receive_count)},
        }
        for index, body in enumerate(bodies)
    ]
    return lambda_event(messages, queue_arn="arn:aws:sqs:us-east-1:000000000000:q")


@dataclass
class Context:
    aws_request_id: str = "req-1"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the unit's JSON handler on the root logger writes (as `configure_logging` installs it)."""
    stream = io.StringIO()
    handler = json_handler("slashops-test", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_only_the_records_that_raise_are_reported_and_nothing_raises_when_all_fail() -> None:
    def handle(message: SqsMessage) -> None:
        if message.body.startswith("bad"):
            raise RuntimeError("boom")

    assert handle_sqs_batch(batch("ok", "bad", "ok"), None, handle) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    everything = handle_sqs_batch(batch("bad 1", "bad 2"), None, handle)
    assert everything == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


@pytest.mark.parametrize(
    ("receive_count", "max_receive_count", "last"), [(4, 5, False), (5, 5, True), (9, None, False)]
)
def test_the_delivery_that_reaches_max_receive_count_is_the_last_attempt(
    receive_count: int, max_receive_count: int | None, last: bool
) -> None:
    seen: list[SqsMessage] = []
    handle_sqs_batch(batch("x", receive_count=receive_count), None, seen.append, max_receive_count=max_receive_count)
    assert seen == [SqsMessage(body="x", message_id="m0", receive_count=receive_count, last_attempt=last)]


def test_the_command_id_is_on_every_std_library_line_about_its_record_only(json_lines: io.StringIO) -> None:
    def handle(message: SqsMessage) -> None:
        logging.getLogger("services.example").info("before parsing")
        bind_command_id(f"id{message.body}")
        logging.getLogger("shared.example").info("working on it")
        if message.body == "2":
            raise RuntimeError("boom")

    handle_sqs_batch(batch("1", "2"), Context(), handle, max_receive_count=5)
    logging.getLogger("services.example").info("after the batch")

    found = [(line["message"], line.get("command_id"), line.get("request_id")) for line in lines(json_lines)]
    assert found == [
        ("before parsing", None, "req-1"),
        ("working on it", "id1", "req-1"),
        ("before parsing", None, "req-1"),  # the previous record's id does not leak into this one
        ("working on it", "id2", "req-1"),
        ("record failed: SQS will deliver it again (then the DLQ)", "id2", "req-1"),
        ("after the batch", None, None),
    ]
    assert {line["service"] for line in lines(json_lines)} == {"slashops-test"}


def test_a_unit_counts_its_redelivered_records_and_the_ones_that_raise() -> None:
    metrics = RecordingMetrics()

    def handle(message: SqsMessage) -> None:
        if message.body.startswith("bad"):
            raise RuntimeError("boom")

    handle_sqs_batch(batch("ok", "bad"), None, handle, unit="deploy", metrics=metrics)
    handle_sqs_batch(batch("bad again", receive_count=2), None, handle, unit="deploy", metrics=metrics)
    assert metrics.total("Errors", Unit="deploy") == 2 and metrics.total("Errors") == 2
    assert metrics.total("Retries", Unit="deploy") == 1


def test_the_unit_metrics_are_emf_lines_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    def handle(message: SqsMessage) -> None:
        raise RuntimeError("boom")

    handle_sqs_batch(batch("bad", receive_count=3), None, handle, unit="notifier")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [
        (line["Unit"], [m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]]) for line in emitted
    ] == [
        ("notifier", ["Retries"]),
        ("notifier", ["Errors"]),
    ]
    assert all(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[], ["Unit"]] for line in emitted)
