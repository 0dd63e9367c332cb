"""`LazyClient`: the injected client wins; otherwise one default is built, on first use, once per adapter."""

from __future__ import annotations

import pytest

from shared.aws.clients import ClientLimits, LazyClient, aws_client, bounded_seconds
from shared.aws.eventbridge import EventBridgePublisher


class Adapter:
    builds: list[str] = []
    client: LazyClient[str] = LazyClient(lambda adapter: adapter.build())

    def __init__(self, name: str, *, client: str | None = None) -> None:
        self.name = name
        self.client = client

    def build(self) -> str:
        Adapter.builds.append(self.name)
        return f"default client of {self.name}"


@pytest.fixture(autouse=True)
def _no_builds() -> None:
    Adapter.builds.clear()


def test_the_default_is_built_on_first_use_only_and_once() -> None:
    adapter = Adapter("a")
    assert Adapter.builds == []  # constructing the adapter builds nothing
    assert adapter.client == "default client of a"
    assert adapter.client == "default client of a"
    assert Adapter.builds == ["a"]


def test_an_injected_client_wins_and_nothing_is_built() -> None:
    adapter = Adapter("a", client="injected")
    assert adapter.client == "injected"
    assert Adapter.builds == []


def test_each_adapter_has_its_own_client() -> None:
    first, second = Adapter("first"), Adapter("second", client="injected")
    assert (first.client, second.client) == ("default client of first", "injected")
    assert Adapter.builds == ["first"]


def test_the_default_client_gets_the_adapters_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    publisher = EventBridgePublisher("bus", "slashops.test", connect_timeout=0.5, read_timeout=1.0)
    config = publisher.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.5, 1.0)
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}


def test_without_limits_botocore_defaults_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert aws_client("sqs").meta.config.read_timeout == 60
    assert aws_client("sqs", ClientLimits(read_timeout=2)).meta.config.read_timeout == 2


@pytest.mark.parametrize(
    ("limits", "bound"),
    [
        (ClientLimits(0.25, 0.75, total_max_attempts=1), 1.75),  # the connect, then two reads that may each stall
        (ClientLimits(0.25, 0.75, total_max_attempts=2), None),  # a retry adds botocore's backoff wait
        (ClientLimits(), None),  # botocore's defaults: 60 s reads, several tries
    ],
)
def test_a_clients_own_limits_bound_a_call_only_with_one_try(
    monkeypatch: pytest.MonkeyPatch, limits: ClientLimits, bound: float | None
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert bounded_seconds(aws_client("events", limits)) == bound


def test_a_client_that_is_not_botocores_has_no_known_bound() -> None:
    assert bounded_seconds(object()) is None
