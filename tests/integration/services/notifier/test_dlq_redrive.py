"""Slack down for longer than the retries: the result waits in the notifier's DLQ, `/ops status` says it is
finished but not reported, and after Slack is back a redrive delivers it exactly once (LocalStack, the local
SQS runner, the ledger on moto, the fake Slack through the real slack-sdk)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from chalicelib.ledger_view import Viewer
from chalicelib.status import status_message
from tests.support.events import accepted, at, command_requested, succeeded
from tests.support.notifier_stack import NotifierStack, notifier_stack
from tools.cli.dlq import peek, redrive, waiting
from tools.local.aws import Service

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
COMMAND_ID = "abc123def456"


@pytest.fixture
def stack(localstack: Service, moto_server: Service) -> Iterator[NotifierStack]:
    with notifier_stack(localstack.endpoint, moto_server.endpoint, max_receive_count=3) as built:
        yield built


def _status(stack: NotifierStack) -> str:
    message = status_message(COMMAND_ID, stack.ledger, Viewer("U0ABC", "example.user", lambda: ()), at(10))
    return "\n".join(str(block.get("text", "")) for block in message.payload()["blocks"])


def test_a_result_that_slack_never_got_is_redriven_and_delivered_once(
    stack: NotifierStack, caplog: pytest.LogCaptureFixture
) -> None:
    target = stack.reply_to()
    stack.publish(command_requested(reply=target), accepted(reply=target))
    stack.run_until(lambda: stack.shows(COMMAND_ID, "accepted", reported=True))

    stack.slack.down()
    stack.publish(succeeded(reply=target))
    stack.run_until(lambda: waiting(stack.sqs, stack.pair.dlq) == 1)
    [dead] = peek(stack.sqs, stack.pair.dlq)
    assert (dead.detail_type, dead.command_id) == ("CommandSucceeded", COMMAND_ID)
    assert any(COMMAND_ID in r.getMessage() and "NOTIFICATION LOST" in r.getMessage() for r in caplog.records)
    assert stack.shows(COMMAND_ID, "succeeded", reported=False)
    assert "not yet reported to Slack" in _status(stack)
    assert stack.finals(COMMAND_ID) == []

    stack.slack.up()
    moved = redrive(stack.sqs, stack.pair)
    assert (moved.moved, moved.how) == (1, "StartMessageMoveTask")
    stack.run_until(lambda: stack.shows(COMMAND_ID, "succeeded", reported=True))
    stack.run_for(2)  # nothing more arrives
    assert len(stack.finals(COMMAND_ID)) == 1
    assert "not yet reported" not in _status(stack) and "*succeeded*" in _status(stack)
    assert waiting(stack.sqs, stack.pair.dlq) == 0 and waiting(stack.sqs, stack.pair.source) == 0

    stack.publish(succeeded(reply=target))  # a late duplicate (a second redrive, at-least-once delivery)
    stack.run_for(2)
    assert len(stack.finals(COMMAND_ID)) == 1


def test_log_level_info_is_enough_to_see_the_lost_line(stack: NotifierStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    target = stack.reply_to()
    stack.slack.down()
    stack.publish(command_requested(reply=target), succeeded(reply=target))
    stack.run_until(lambda: waiting(stack.sqs, stack.pair.dlq) == 1)
    lost = [r.getMessage() for r in caplog.records if "NOTIFICATION LOST" in r.getMessage()]
    assert len(lost) == 1 and COMMAND_ID in lost[0]
