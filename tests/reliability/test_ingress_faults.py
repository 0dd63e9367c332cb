"""Ingress faults: the bus hanging or refusing, and a signed request replayed. Each case asserts the outcome
(an answer within Slack's 3 s that says only what is known; one publish per signed request) and tallies it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability.tally import Tally
from tests.support.servers import hanging_server, refusing_endpoint
from tests.support.slack import signed_request
from tests.support.wired_ingress import Send, counted_bus, ingress_instances
from tools.local.aws import FAKE_CREDENTIALS, Service, running, start_moto

pytestmark = pytest.mark.integration
DEPLOY = "deploy --client acme --branch main"
SLACK_DEADLINE = 3.0


@pytest.fixture(scope="module")
def moto() -> Iterator[Service]:
    with running(start_moto()) as service:
        yield service


@pytest.fixture
def instance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, moto: Service) -> Iterator[Callable[[str], Send]]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with ingress_instances(monkeypatch, tmp_path, dynamodb_endpoint=moto.endpoint) as new_instance:
        yield new_instance


def test_bus_hanging_is_answered_in_time_as_maybe_queued(instance: Callable[[str], Send], tally: Tally) -> None:
    with hanging_server() as bus:
        answer = instance(bus.endpoint)(*signed_request(DEPLOY))
    honest = "may have been queued as `" in answer.text and "nothing was started" not in answer.text
    survived = answer.status == 200 and answer.seconds < SLACK_DEADLINE and honest
    tally.fault("ingress: bus hanging", survived=survived)
    assert survived, f"{answer.seconds:.1f}s: {answer.text}"


def test_bus_refusing_is_answered_in_time_as_not_queued(instance: Callable[[str], Send], tally: Tally) -> None:
    answer = instance(refusing_endpoint())(*signed_request(DEPLOY))
    survived = answer.status == 200 and answer.seconds < SLACK_DEADLINE and "Command not queued" in answer.text
    tally.fault("ingress: bus refusing", survived=survived)
    assert survived, f"{answer.seconds:.1f}s: {answer.text}"


def _replayed(instance: Callable[[str], Send], moto: Service, tally: Tally, *, last_after: float) -> None:
    """Three sends of one signed request: at 0 s and +2 s on two instances, and once more after `last_after`."""
    with counted_bus(moto.endpoint) as published_ids:
        first, second = instance(moto.endpoint), instance(moto.endpoint)
        body, headers = signed_request(DEPLOY)
        answers = [first(body, headers)]
        time.sleep(2)
        answers.append(second(body, headers))
        time.sleep(last_after)
        answers.append(first(body, headers))
        published = published_ids()
    tally.commands(3, lost=max(0, 1 - len(published)), duplicated=max(0, len(published) - 1))
    survived = len(published) == 1 and all(f"already received as `{published[0]}`" in a.text for a in answers[1:])
    tally.fault("ingress: replayed request", survived=survived)
    assert survived, (published, [a.text for a in answers])


def test_replay_within_seconds_is_published_once(instance: Callable[[str], Send], moto: Service, tally: Tally) -> None:
    _replayed(instance, moto, tally, last_after=0)


@pytest.mark.slow
def test_replay_a_minute_later_is_published_once(instance: Callable[[str], Send], moto: Service, tally: Tally) -> None:
    _replayed(instance, moto, tally, last_after=60)  # the third send came at +62 s
