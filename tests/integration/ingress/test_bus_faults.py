"""The real ingress wiring (`chalicelib.deps`) against endpoints that hang, refuse, or see the same request twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.servers import hanging_server, refusing_endpoint
from tests.support.slack import signed_request
from tests.support.wired_ingress import Send, counted_bus, ingress_instances
from tools.local.aws import Service

pytestmark = pytest.mark.integration
DEPLOY = "deploy --client acme --branch main"


@pytest.fixture
def instance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, moto_server: Service) -> Iterator[Callable[[str], Send]]:
    with ingress_instances(monkeypatch, tmp_path, dynamodb_endpoint=moto_server.endpoint) as new_instance:
        yield new_instance


def test_a_hanging_bus_is_answered_within_3s_as_maybe_queued(instance: Callable[[str], Send]) -> None:
    with hanging_server() as bus:
        answer = instance(bus.endpoint)(*signed_request(DEPLOY))
    assert answer.status == 200 and answer.seconds < 3.0, f"answered after {answer.seconds:.1f}s"
    assert bus.requests_received >= 1  # the PutEvents was sent: it may have landed
    assert "may have been queued as `" in answer.text and "/ops status " in answer.text
    assert "nothing was started" not in answer.text


def test_a_refusing_bus_is_answered_within_3s_not_queued(instance: Callable[[str], Send]) -> None:
    answer = instance(refusing_endpoint())(*signed_request(DEPLOY))
    assert answer.status == 200 and answer.seconds < 3.0
    assert "Command not queued" in answer.text and "nothing was started" in answer.text


def test_the_same_signed_request_on_two_instances_is_published_once(
    instance: Callable[[str], Send], moto_server: Service
) -> None:
    with counted_bus(moto_server.endpoint) as published_ids:
        first_instance, second_instance = instance(moto_server.endpoint), instance(moto_server.endpoint)
        body, headers = signed_request(DEPLOY)

        first = first_instance(body, headers)
        time.sleep(2)
        second = second_instance(body, headers)
        third = second_instance(*signed_request(DEPLOY, trigger_id="typed.again"))

        [first_id, third_id] = published_ids()
    assert f"accepted as `{first_id}`" in first.text
    assert second.status == 200 and second.seconds < 3.0
    assert f"already received as `{first_id}`" in second.text and f"/ops status {first_id}" in second.text
    assert f"accepted as `{third_id}`" in third.text and third_id != first_id
