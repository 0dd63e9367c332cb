"""A signed Slack request to the real ingress puts a `CommandRequested` on a LocalStack bus."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.test import Client

from app import create_app
from shared.aws.eventbridge import EventBridgePublisher
from shared.events.envelope import parse_eventbridge_json
from shared.events.models import INGRESS_SOURCE, CommandRequested
from tests.support.fakes import StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.slack import SIGNING_SECRET, signed_request
from tools.local.aws import Service, bus_may_send_to, free_port

pytestmark = pytest.mark.integration


@dataclass
class Bus:
    name: str
    events: Any
    sqs: Any
    deploy_queue_url: str


@pytest.fixture
def bus(localstack: Service) -> Iterator[Bus]:
    """GIVEN a bus with a rule sending deploy commands to a queue."""
    events = boto3.client("events", endpoint_url=localstack.endpoint)
    sqs = boto3.client("sqs", endpoint_url=localstack.endpoint)
    name = f"slashops-{uuid.uuid4().hex[:8]}"
    bus_arn = events.create_event_bus(Name=name)["EventBusArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-deploy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": bus_may_send_to(queue_arn)})
    events.put_rule(
        Name="deploy-commands",
        EventBusName=name,
        EventPattern=json.dumps(
            {"source": [INGRESS_SOURCE], "detail-type": ["CommandRequested"], "detail": {"command": ["deploy"]}}
        ),
    )
    events.put_targets(Rule="deploy-commands", EventBusName=name, Targets=[{"Id": "deploy", "Arn": queue_arn}])
    yield Bus(name=name, events=events, sqs=sqs, deploy_queue_url=queue_url)
    events.remove_targets(Rule="deploy-commands", EventBusName=name, Ids=["deploy"])
    events.delete_rule(Name="deploy-commands", EventBusName=name)
    events.delete_event_bus(Name=name)
    sqs.delete_queue(QueueUrl=queue_url)
    assert bus_arn


def _receive(sqs: Any, queue_url: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if messages:
            return list(messages)
    return []


def test_signed_deploy_reaches_the_deploy_queue_as_a_typed_event(bus: Bus) -> None:
    deps = ingress_deps(
        config=StaticConfig.from_text('{"command": "deploy", "users": ["U0ABC"], "channels": ["C0123"]}'),
        publisher=EventBridgePublisher(bus.name, INGRESS_SOURCE, client=bus.events),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    body, headers = signed_request("deploy --client acme --branch main --env production")

    # WHEN Slack posts the command
    with Client(app) as client:
        started = time.monotonic()
        response = client.http.post("/slack/commands", headers=headers, body=body)
        elapsed = time.monotonic() - started

    # THEN the user is acknowledged in time and the event waits in the deploy queue
    assert response.status_code == 200
    assert elapsed < 3.0
    acknowledged = json.loads(response.body)["text"]
    [message] = _receive(bus.sqs, bus.deploy_queue_url)
    envelope = json.loads(message["Body"])
    assert envelope["source"] == INGRESS_SOURCE and envelope["detail-type"] == "CommandRequested"
    event = parse_eventbridge_json(message["Body"])
    assert isinstance(event, CommandRequested)
    assert event.command_id in acknowledged
    assert event.arguments == {"client": "acme", "branch": "main", "env": "production"}
    assert event.actor.user_id == "U0ABC" and event.place.channel_id == "C0123"


def test_other_commands_do_not_reach_the_deploy_queue(bus: Bus) -> None:
    deps = ingress_deps(
        config=StaticConfig.from_text('{"command": "backup"}'),
        publisher=EventBridgePublisher(bus.name, INGRESS_SOURCE, client=bus.events),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    body, headers = signed_request("backup --db orders")
    with Client(app) as client:
        assert client.http.post("/slack/commands", headers=headers, body=body).status_code == 200
    assert _receive(bus.sqs, bus.deploy_queue_url, timeout=3) == []


def test_unreachable_eventbridge_means_not_queued_message_within_the_deadline() -> None:
    from botocore.config import Config

    events = boto3.client(
        "events",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(connect_timeout=0.5, read_timeout=0.5, retries={"max_attempts": 1}),
    )
    deps = ingress_deps(
        config=StaticConfig.from_text('{"command": "backup"}'),
        publisher=EventBridgePublisher("slashops", INGRESS_SOURCE, client=events),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    body, headers = signed_request("backup --db orders")
    with Client(app) as client:
        started = time.monotonic()
        response = client.http.post("/slack/commands", headers=headers, body=body)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert "not queued" in json.loads(response.body)["text"]
    assert elapsed < 3.0
