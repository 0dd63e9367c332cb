"""The real ingress wiring (bootstrap) against real endpoints that hang, refuse, or see the same request twice.

boto3 finds the endpoints through `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB`, exactly as in `make run`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client

from app import create_app
from chalicelib import bootstrap
from shared.aws.replay_guard import create_table
from tests.support.servers import hanging_server, refusing_endpoint
from tests.support.slack import SIGNING_SECRET, signed_request
from tests.unit.ingress.conftest import SEED_RULES, message_text
from tools.local_aws import Service

pytestmark = pytest.mark.integration
DEPLOY = "deploy --client acme --branch main"
Send = Callable[[bytes, dict[str, str]], tuple[int, str, float]]


@pytest.fixture
def replay_table(moto_server: Service) -> str:
    name = f"replays-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb", endpoint_url=moto_server.endpoint), name)
    return name


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, moto_server: Service, replay_table: str) -> Iterator[Any]:
    """Sets the ingress' environment with the bus at `events_endpoint`; each call is a fresh Lambda instance."""
    config = tmp_path / "slashops.json"
    config.write_text(SEED_RULES)

    def instance(events_endpoint: str) -> Send:
        for name, value in {
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLASHOPS_CONFIG": str(config),
            "SLASHOPS_EVENT_BUS": "slashops",
            "SLASHOPS_REPLAY_TABLE": replay_table,
            "AWS_ENDPOINT_URL": events_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": moto_server.endpoint,
        }.items():
            monkeypatch.setenv(name, value)
        bootstrap.settings.cache_clear()
        bootstrap.ingress_deps.cache_clear()
        deps = bootstrap.ingress_deps()  # this instance's wiring, built now from this environment
        app = create_app(deps=lambda: deps)

        def send(body: bytes, headers: dict[str, str]) -> tuple[int, str, float]:
            with Client(app) as client:
                started = time.monotonic()
                response = client.http.post("/slack/commands", headers=headers, body=body)
                elapsed = time.monotonic() - started
            return response.status_code, message_text(json.loads(response.body)), elapsed

        return send

    yield instance
    bootstrap.settings.cache_clear()
    bootstrap.ingress_deps.cache_clear()


def test_a_hanging_bus_is_answered_within_3s_as_maybe_queued(wire: Any) -> None:
    with hanging_server() as bus:
        send = wire(bus.endpoint)
        status, text, elapsed = send(*signed_request(DEPLOY))
    assert status == 200 and elapsed < 3.0, f"answered after {elapsed:.1f}s"
    assert bus.requests_received >= 1  # the PutEvents was sent: it may have landed
    assert "may have been queued as `" in text and "/ops status " in text
    assert "nothing was started" not in text


def test_a_refusing_bus_is_answered_within_3s_not_queued(wire: Any) -> None:
    send = wire(refusing_endpoint())
    status, text, elapsed = send(*signed_request(DEPLOY))
    assert status == 200 and elapsed < 3.0
    assert "Command not queued" in text and "nothing was started" in text


@pytest.fixture
def moto_bus(moto_server: Service) -> Iterator[Callable[[], list[str]]]:
    """A bus named `slashops` on moto's server, every CommandRequested routed to a queue we can count."""
    events = boto3.client("events", endpoint_url=moto_server.endpoint)
    sqs = boto3.client("sqs", endpoint_url=moto_server.endpoint)
    queue_url = sqs.create_queue(QueueName=f"commands-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="slashops")
    events.put_rule(
        Name="all-commands", EventBusName="slashops", EventPattern=json.dumps({"detail-type": ["CommandRequested"]})
    )
    events.put_targets(Rule="all-commands", EventBusName="slashops", Targets=[{"Id": "q", "Arn": queue_arn}])

    def published_ids() -> list[str]:
        ids = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                ids.append(json.loads(message["Body"])["detail"]["command_id"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return ids

    yield published_ids
    events.remove_targets(Rule="all-commands", EventBusName="slashops", Ids=["q"])
    events.delete_rule(Name="all-commands", EventBusName="slashops")
    events.delete_event_bus(Name="slashops")
    sqs.delete_queue(QueueUrl=queue_url)


def test_the_same_signed_request_on_two_instances_is_published_once(
    wire: Any, moto_server: Service, moto_bus: Callable[[], list[str]]
) -> None:
    first_instance, second_instance = wire(moto_server.endpoint), wire(moto_server.endpoint)
    body, headers = signed_request(DEPLOY)

    _, first, _ = first_instance(body, headers)
    time.sleep(2)
    status, second, elapsed = second_instance(body, headers)
    _, third, _ = second_instance(*signed_request(DEPLOY, trigger_id="typed.again"))

    [first_id, third_id] = moto_bus()
    assert f"accepted as `{first_id}`" in first
    assert status == 200 and elapsed < 3.0
    assert f"already received as `{first_id}`" in second and f"/ops status {first_id}" in second
    assert f"accepted as `{third_id}`" in third and third_id != first_id
