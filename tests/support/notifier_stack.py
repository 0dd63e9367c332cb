"""The notifier on its real adapters: `wired_notifier` (its batch entry, the real slack-sdk adapter on the fake Slack,
a given ledger) and `notifier_stack`, the notifier as `make run` runs it, for end-to-end fault tests: its SQS queue
and DLQ on LocalStack (named as the bus stack names them), the local SQS runner calling the real handler, the
ledger on moto's DynamoDB, and the real slack-sdk adapter posting to the in-process fake Slack."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from services.notifier.adapters.slack import SlackSdkAdapter
from services.notifier.deps import NotifierDeps
from services.notifier.handler import handle_batch
from shared.aws.tables import LEDGER, create_table
from shared.events.models import Event, ReplyTarget
from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.clock import Clock
from tests.support.events import at, eventbridge_body, reply_to, sqs_batch
from tools.cli.dlq import Pair
from tools.fakes.slack import FakeSlack
from tools.local.sqs_runner import SqsClient, SqsRunner

REGION = "us-east-1"


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


def wired_notifier(slack: FakeSlack, ledger: DynamoDbLedger) -> Notifier:
    """The notifier's batch entry over the real slack-sdk adapter (pointed at `slack`) and `ledger`, at minute 0."""
    clock = Clock(at(0))
    sleeps: list[float] = []
    adapter = SlackSdkAdapter(lambda: slack.bot_token, api_url=slack.api_url, sleep=sleeps.append)
    deps = NotifierDeps(ledger=ledger, slack=adapter, now=clock)
    return Notifier(slack, ledger, clock, deps, slack.response_url(), sleeps)


@dataclass
class NotifierStack:
    sqs: Any
    pair: Pair
    runner: SqsRunner
    slack: FakeSlack
    ledger: DynamoDbLedger
    sleeps: list[float] = field(default_factory=list)

    def reply_to(self) -> ReplyTarget:
        return reply_to(self.slack.response_url())

    def publish(self, *events: Event) -> None:
        """What the notifier rule does: each event, EventBridge-shaped, onto the notifier queue."""
        for event in events:
            self.sqs.send_message(QueueUrl=self.pair.source.url, MessageBody=eventbridge_body(event))

    def run_until(self, done: Callable[[], bool], *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the notifier did not get there in time"
            self.runner.poll_once()

    def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.runner.poll_once()

    def shows(self, command_id: str, state: str, *, reported: bool) -> bool:
        """The ledger holds `state` for the command, and Slack was (or was not) told of it."""
        found = self.ledger.get(command_id)
        return found is not None and found.state == state and found.reported is reported

    def finals(self, command_id: str) -> list[str]:
        """Final results Slack accepted for this command (any route)."""
        return [
            m.text
            for m in self.slack.messages
            if command_id in m.text and any(word in m.text for word in ("succeeded", "failed", "was refused"))
        ]


@contextmanager
def notifier_stack(
    localstack_endpoint: str, dynamodb_endpoint: str, *, max_receive_count: int = 3
) -> Iterator[NotifierStack]:
    sqs = boto3.client("sqs", endpoint_url=localstack_endpoint, region_name=REGION)
    prefix = f"t{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-notifier-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})
    sqs.create_queue(QueueName=f"{prefix}-notifier", Attributes={"VisibilityTimeout": "1", "RedrivePolicy": redrive})
    pair = Pair.of(sqs, "notifier", prefix=prefix)

    dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)
    create_table(dynamodb, LEDGER, f"{prefix}-ledger")
    ledger = DynamoDbLedger(f"{prefix}-ledger", client=dynamodb)
    with FakeSlack() as slack:
        sleeps: list[float] = []
        adapter = SlackSdkAdapter(lambda: slack.bot_token, api_url=slack.api_url, sleep=sleeps.append)
        deps = NotifierDeps(ledger=ledger, slack=adapter, now=Clock(at(6)), max_receive_count=max_receive_count)
        runner = SqsRunner(
            pair.source.url,
            lambda event, context: handle_batch(event, context, deps),
            client=_as_runner_client(sqs),
            function_name="slashops-notifier",
            queue_arn=pair.source.arn,
        )
        yield NotifierStack(sqs, pair, runner, slack, ledger, sleeps)


def _as_runner_client(sqs: Any) -> SqsClient:
    return sqs  # type: ignore[no-any-return]
