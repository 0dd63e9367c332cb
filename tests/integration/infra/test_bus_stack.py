"""The bus stack, deployed on LocalStack from `infra/bus.yaml` itself: routing, DLQs, archive, alarms."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from shared.commands.catalog import CATALOG
from shared.commands.routing import routes
from shared.events.envelope import parse_eventbridge, to_put_events_entry
from shared.events.models import INGRESS_SOURCE, CommandRefused, CommandRequested, CommandSucceeded, ReplyTarget
from tests.support.events import command_requested, refused, reply_to
from tools.local.aws import Service
from tools.release.routes import LISTENERS, logical_name
from tools.release.stacks import BUS_TEMPLATE, create_stack, ensure_archive

pytestmark = pytest.mark.integration

MAX_RECEIVE_COUNT = 2


@dataclass
class Bus:
    prefix: str
    outputs: dict[str, str]
    sqs: Any
    events: Any
    cloudwatch: Any


@pytest.fixture(scope="module")
def bus(localstack: Service) -> Iterator[Bus]:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    session = boto3.Session(region_name="us-east-1")
    parameters = {"Prefix": prefix, "VisibilityTimeout": "1", "MaxReceiveCount": str(MAX_RECEIVE_COUNT)}
    outputs = create_stack(
        session.client("cloudformation", endpoint_url=localstack.endpoint), f"{prefix}-bus", BUS_TEMPLATE, parameters
    )
    events = session.client("events", endpoint_url=localstack.endpoint)
    yield Bus(
        prefix,
        outputs,
        session.client("sqs", endpoint_url=localstack.endpoint),
        events,
        session.client("cloudwatch", endpoint_url=localstack.endpoint),
    )


def _requested(command: str) -> CommandRequested:
    return command_requested(
        f"{command}-{uuid.uuid4().hex[:6]}", command=command, arguments={}, reply=reply_to("http://127.0.0.1:9/hook")
    )


def _drain(bus: Bus, queue_url: str, expected: int, *, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Receive (and delete) until `expected` messages arrived, then one more short look for strays."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait = 1 if len(bodies) < expected else 0
        messages = bus.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get(
            "Messages", []
        )
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            bus.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= expected and not messages:
            break
    return bodies


def test_each_command_lands_only_in_its_consumers_queue_and_every_event_in_the_notifiers(bus: Bus) -> None:
    requested = [_requested(name) for name in CATALOG.names()]
    result = CommandSucceeded(
        command_id="result-1",
        command="deploy",
        summary="done",
        source="slashops.deploy",
        reply_to=ReplyTarget(response_url="http://127.0.0.1:9/hook", channel_id="C1", user_id="U1"),
    )
    bus_name = bus.outputs["BusName"]
    entries = [to_put_events_entry(event, source=INGRESS_SOURCE, bus_name=bus_name) for event in requested]
    entries.append(to_put_events_entry(result, source="slashops.deploy", bus_name=bus_name))
    for start in range(0, len(entries), 10):  # PutEvents takes at most 10 entries a call
        assert bus.events.put_events(Entries=entries[start : start + 10])["FailedEntryCount"] == 0

    for consumer, commands in routes(CATALOG).items():
        received = _drain(bus, bus.outputs[f"{logical_name(consumer)}QueueUrl"], len(commands))
        assert {body["detail"]["command"] for body in received} == set(commands)
        assert {body["detail-type"] for body in received} == {"CommandRequested"}
        assert len(received) == len(commands)
    everything = _drain(bus, bus.outputs["NotifierQueueUrl"], len(entries))
    assert sorted(body["detail"]["command_id"] for body in everything) == sorted(
        [event.command_id for event in requested] + ["result-1"]
    )


def test_a_command_requested_from_any_source_but_the_ingress_reaches_no_consumer(bus: Bus) -> None:
    """What a consumer role (or anyone who can publish as another source) could try: it is dropped by the rules."""
    bus_name = bus.outputs["BusName"]
    forged = {
        source: [_requested(command) for command in ("deploy", "restore")]
        for source in ("slashops.deploy", "slashops.backup", "slashops.notifier", "slashops.ingress.x")
    }
    genuine = [_requested("deploy"), _requested("restore")]
    entries = [to_put_events_entry(e, source=source, bus_name=bus_name) for source, es in forged.items() for e in es]
    entries += [to_put_events_entry(event, source=INGRESS_SOURCE, bus_name=bus_name) for event in genuine]
    assert bus.events.put_events(Entries=entries)["FailedEntryCount"] == 0

    deploys = _drain(bus, bus.outputs["DeployQueueUrl"], 1)
    backups = _drain(bus, bus.outputs["BackupQueueUrl"], 1)
    notified = _drain(bus, bus.outputs["NotifierQueueUrl"], len(entries))

    assert [body["detail"]["command_id"] for body in deploys] == [genuine[0].command_id]
    assert [body["detail"]["command_id"] for body in backups] == [genuine[1].command_id]
    assert {body["source"] for body in deploys + backups} == {INGRESS_SOURCE}
    # the notifier still takes every slashops.* event (it records what was tried)
    assert len(notified) == len(entries)


def test_a_refusal_reaches_the_notifiers_ledger_and_no_consumer(bus: Bus) -> None:
    bus_name = bus.outputs["BusName"]
    refusals = [refused(f"ref{uuid.uuid4().hex[:9]}", command=command) for command in ("deploy", "backup")]
    entries = [to_put_events_entry(event, source=INGRESS_SOURCE, bus_name=bus_name) for event in refusals]
    assert bus.events.put_events(Entries=entries)["FailedEntryCount"] == 0

    notified = _drain(bus, bus.outputs["NotifierQueueUrl"], len(refusals))
    arrived = [parse_eventbridge(body) for body in notified if body["detail-type"] == "CommandRefused"]
    assert all(isinstance(event, CommandRefused) for event in arrived)
    assert sorted(arrived, key=lambda event: event.command_id) == sorted(refusals, key=lambda event: event.command_id)
    assert _drain(bus, bus.outputs["DeployQueueUrl"], 0, timeout=2) == []
    assert _drain(bus, bus.outputs["BackupQueueUrl"], 0, timeout=2) == []


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(bus: Bus) -> None:
    queue_url, dlq_url = bus.outputs["DeployQueueUrl"], bus.outputs["DeployDeadLetterQueueUrl"]
    entry = to_put_events_entry(_requested("deploy"), source=INGRESS_SOURCE, bus_name=bus.outputs["BusName"])
    assert bus.events.put_events(Entries=[entry])["FailedEntryCount"] == 0

    receives = 0
    deadline = time.monotonic() + 20
    moved: list[Any] = []
    while time.monotonic() < deadline and not moved:
        # A consumer that fails never deletes: the message reappears after the 1 s visibility timeout.
        got = bus.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, VisibilityTimeout=1).get("Messages", [])
        receives += len(got)
        moved = bus.sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=0).get("Messages", [])
    assert moved, f"not in the DLQ after {receives} failed receives"
    assert receives == MAX_RECEIVE_COUNT
    assert json.loads(moved[0]["Body"])["detail"]["command"] == "deploy"


def test_the_archive_records_the_bus(bus: Bus) -> None:
    name = ensure_archive(bus.events, prefix=bus.prefix, bus_arn=bus.outputs["BusArn"])
    archives = bus.events.list_archives(EventSourceArn=bus.outputs["BusArn"])["Archives"]
    assert [archive["ArchiveName"] for archive in archives] == [name]
    assert archives[0]["State"] == "ENABLED"


def test_every_dead_letter_queue_has_an_alarm_on_its_depth(bus: Bus) -> None:
    alarms = bus.cloudwatch.describe_alarms(AlarmNamePrefix=bus.prefix)["MetricAlarms"]
    watched = {
        dimension["Value"]
        for alarm in alarms
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Dimensions"]
    }
    assert watched == {f"{bus.prefix}-{consumer}-dlq" for consumer in [*routes(CATALOG), *LISTENERS]}
