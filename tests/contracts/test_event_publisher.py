"""The `EventPublisher` contract: `RecordingPublisher` and `EventBridgePublisher` (on LocalStack) answer alike.

What a consumer can rely on: every published event reaches the bus once, unchanged (more than one `PutEvents`
batch included), and a bus that cannot be reached is `NotPublishedError` — "nothing was started" is then true.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from shared.aws.eventbridge import EventBridgePublisher
from shared.deadline import Deadline
from shared.events.envelope import parse_eventbridge_json
from shared.events.models import INGRESS_SOURCE, Event
from shared.events.publisher import EventPublisher, NotPublishedError
from tests.support.events import command_requested
from tests.support.fakes import RecordingPublisher
from tests.support.servers import refusing_endpoint
from tools.local.aws import FAKE_CREDENTIALS, Service

REGION = FAKE_CREDENTIALS["AWS_DEFAULT_REGION"]


@dataclass
class Bus:
    """A publisher, what reached the bus so far, and a publisher whose bus cannot be reached."""

    publisher: EventPublisher
    delivered: Callable[[int], list[Event]]
    unreachable: Callable[[], EventPublisher]


@pytest.fixture(params=["memory", pytest.param("eventbridge", marks=pytest.mark.integration)])
def bus(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    if request.param == "memory":
        recording = RecordingPublisher()
        yield Bus(recording, lambda expected: list(recording.events), lambda: RecordingPublisher(fail=True))
        return
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    service: Service = request.getfixturevalue("localstack")  # started only when the real side runs
    yield from _eventbridge_bus(service.endpoint)


def _eventbridge_bus(endpoint: str) -> Iterator[Bus]:
    """A bus whose one rule sends every event from the ingress to a queue; reading it back drains the queue."""
    events = boto3.client("events", endpoint_url=endpoint, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
    name = f"contract-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=name)
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=name, EventPattern=json.dumps({"source": [INGRESS_SOURCE]}))
    events.put_targets(Rule="all", EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}])

    def delivered(expected: int) -> list[Event]:
        return [parse_eventbridge_json(body) for body in _drain(sqs, queue_url, expected)]

    def unreachable() -> EventPublisher:
        return EventBridgePublisher(
            name,
            INGRESS_SOURCE,
            client=boto3.client("events", endpoint_url=refusing_endpoint(), region_name=REGION),
            backoff_seconds=0.0,
        )

    try:
        yield Bus(EventBridgePublisher(name, INGRESS_SOURCE, client=events), delivered, unreachable)
    finally:
        events.remove_targets(Rule="all", EventBusName=name, Ids=["queue"])
        events.delete_rule(Name="all", EventBusName=name)
        events.delete_event_bus(Name=name)
        sqs.delete_queue(QueueUrl=queue_url)


def _drain(sqs: Any, queue_url: str, expected: int, timeout: float = 15.0) -> list[str]:
    """Bodies until `expected` arrived, then one short look for strays (a duplicate would show there)."""
    bodies: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait = 1 if len(bodies) < expected else 0
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        batch = messages.get("Messages", [])
        for message in batch:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= expected and not batch:
            break
    return bodies


def test_published_events_reach_the_bus_once_and_unchanged(bus: Bus) -> None:
    events = [command_requested(f"cmd{index:09d}") for index in range(12)]  # more than one PutEvents batch
    bus.publisher.publish(events, deadline=Deadline.after(10.0))
    arrived = bus.delivered(len(events))
    assert sorted(arrived, key=lambda event: event.command_id) == events


def test_an_unreachable_bus_is_not_published_and_nothing_arrives(bus: Bus) -> None:
    with pytest.raises(NotPublishedError):
        bus.unreachable().publish([command_requested("cmd000000001")], deadline=Deadline.after(2.0))
    assert bus.delivered(0) == []
