"""The EventBridge publisher: retries within the request's deadline, and tells "not sent" from "maybe sent"."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from shared.aws.eventbridge import EventBridgePublisher, may_have_landed
from shared.deadline import Deadline, DeadlineExceededError
from shared.events.models import CommandRequested
from shared.events.publisher import NotPublishedError, PublishError, PublishOutcomeUnknownError
from tests.support.events import command_requested

URL = "https://events.us-east-1.amazonaws.com/"
OK = {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}
ENTRY_FAILED = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}


def _event(command_id: str = "abc123def456") -> CommandRequested:
    return command_requested(command_id)


def _client_error(status: int, code: str = "InternalException") -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutEvents")


class FakeEvents:
    """An EventBridge client answering from a script: a response, an exception to raise, or a pause."""

    def __init__(self, answers: list[Any], *, clock: FakeClock | None = None, seconds_per_call: float = 0.0) -> None:
        self.answers = answers
        self.calls: list[list[dict[str, str]]] = []
        self.clock = clock
        self.seconds_per_call = seconds_per_call

    def put_events(self, Entries: list[dict[str, str]]) -> Any:  # noqa: N803 (boto3's spelling)
        self.calls.append(Entries)
        if self.clock is not None:
            self.clock.now += self.seconds_per_call
        answer = self.answers.pop(0) if self.answers else OK
        if isinstance(answer, threading.Event):  # a bus that never answers (until the test releases it)
            answer.wait(10)
            raise ReadTimeoutError(endpoint_url=URL)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _publisher(client: FakeEvents, clock: FakeClock | None = None) -> EventBridgePublisher:
    def sleep(seconds: float) -> None:
        if clock is not None:
            clock.now += seconds

    return EventBridgePublisher("bus", "src", client=client, sleep=sleep)  # type: ignore[arg-type]


def test_partial_failure_retries_only_failed_entries() -> None:
    client = FakeEvents(
        [
            {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "x"}],
            },
            {"FailedEntryCount": 0, "Entries": [{"EventId": "2"}]},
        ]
    )
    _publisher(client).publish([_event("aaaaaa111111"), _event("bbbbbb222222")])
    assert len(client.calls) == 2
    assert len(client.calls[1]) == 1 and "bbbbbb222222" in client.calls[1][0]["Detail"]


@pytest.mark.parametrize(
    "failure",
    [
        EndpointConnectionError(endpoint_url=URL),
        ConnectTimeoutError(endpoint_url=URL),
        _client_error(400, "Throttling"),
    ],
    ids=["refused", "connect-timeout", "4xx"],
)
def test_failures_before_the_bus_could_accept_mean_not_published(failure: Exception) -> None:
    client = FakeEvents([failure, ENTRY_FAILED, failure])
    with pytest.raises(NotPublishedError):
        _publisher(client).publish([_event()])
    assert len(client.calls) == 3


@pytest.mark.parametrize(
    "failure",
    [ReadTimeoutError(endpoint_url=URL), ConnectionClosedError(endpoint_url=URL), _client_error(500)],
    ids=["read-timeout", "connection-dropped", "5xx"],
)
def test_one_attempt_that_may_have_landed_makes_the_outcome_unknown(failure: Exception) -> None:
    client = FakeEvents([EndpointConnectionError(endpoint_url=URL), failure, ENTRY_FAILED])
    with pytest.raises(PublishOutcomeUnknownError):
        _publisher(client).publish([_event()])
    assert not isinstance(PublishOutcomeUnknownError("x"), NotPublishedError)


def test_a_retry_after_an_unknown_outcome_resends_the_same_command_id_and_can_succeed() -> None:
    client = FakeEvents([ReadTimeoutError(endpoint_url=URL), OK])
    _publisher(client).publish([_event("cafe00000001")])
    assert len(client.calls) == 2
    assert client.calls[0] == client.calls[1] and "cafe00000001" in client.calls[1][0]["Detail"]


def test_attempts_stop_when_the_deadline_leaves_no_time_for_another() -> None:
    clock = FakeClock()
    client = FakeEvents([ReadTimeoutError(endpoint_url=URL)] * 5, clock=clock, seconds_per_call=1.0)
    with pytest.raises(PublishOutcomeUnknownError, match="out of time after 2 attempt"):
        _publisher(client, clock).publish([_event()], deadline=Deadline.after(2.2, clock=clock))
    assert len(client.calls) == 2


def test_no_time_left_means_no_attempt_and_not_published() -> None:
    client = FakeEvents([])
    with pytest.raises(NotPublishedError, match="out of time after 0 attempt"):
        _publisher(client).publish([_event()], deadline=Deadline.after(0.0))
    assert client.calls == []


def test_a_bus_that_never_answers_is_abandoned_at_the_deadline_as_unknown() -> None:
    hang = threading.Event()
    client = FakeEvents([hang, hang, hang])
    started = time.monotonic()
    try:
        with pytest.raises(PublishOutcomeUnknownError):
            _publisher(client).publish([_event()], deadline=Deadline.after(0.5))
        assert time.monotonic() - started < 1.0
    finally:
        hang.set()


def test_without_a_deadline_it_gives_up_after_its_attempts() -> None:
    client = FakeEvents([ENTRY_FAILED, EndpointConnectionError(endpoint_url=URL), ENTRY_FAILED])
    with pytest.raises(PublishError, match="InternalFailure"):
        _publisher(client).publish([_event()])
    assert len(client.calls) == 3


@pytest.mark.parametrize(
    ("error", "maybe"),
    [
        (EndpointConnectionError(endpoint_url=URL), False),
        (ConnectTimeoutError(endpoint_url=URL), False),
        (_client_error(403, "AccessDeniedException"), False),
        (ReadTimeoutError(endpoint_url=URL), True),
        (ConnectionClosedError(endpoint_url=URL), True),
        (_client_error(503, "ServiceUnavailable"), True),
        (DeadlineExceededError(), True),
        (RuntimeError("unfamiliar"), True),
    ],
)
def test_may_have_landed(error: Exception, maybe: bool) -> None:
    assert may_have_landed(error) is maybe


def test_the_built_client_makes_one_try_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = EventBridgePublisher("bus", "src", connect_timeout=0.5, read_timeout=1.0).client
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.5, 1.0)
    assert config.retries["total_max_attempts"] == 1


def answered_events(calls: list[threading.Thread], **config: Any) -> Any:
    """A real botocore client whose calls are answered in this process, recording the thread each ran on."""
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    class Raw:
        def stream(self, **_: object) -> Iterator[bytes]:
            yield b'{"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}'

    def answer(request: Any, **_: object) -> AWSResponse:
        calls.append(threading.current_thread())
        return AWSResponse(request.url, 200, {}, Raw())

    client = boto3.client(
        "events",
        region_name="us-east-1",
        endpoint_url="http://events.invalid",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(**config),
    )
    client.meta.events.register("before-send", answer)
    return client


def test_an_attempt_its_timeouts_bound_within_the_deadline_needs_no_thread() -> None:
    calls: list[threading.Thread] = []
    one_try = {"connect_timeout": 0.25, "read_timeout": 0.75, "retries": {"total_max_attempts": 1}}
    publisher = EventBridgePublisher("bus", "src", client=answered_events(calls, **one_try))
    publisher.publish([_event()], deadline=Deadline.after(2.0))
    assert calls == [threading.current_thread()]


@pytest.mark.parametrize(
    ("config", "seconds_left"),
    [
        ({"connect_timeout": 0.25, "read_timeout": 0.75, "retries": {"total_max_attempts": 1}}, 1.0),  # 1.75 s > 1 s
        ({"connect_timeout": 0.25, "read_timeout": 0.75, "retries": {"total_max_attempts": 2}}, 2.0),  # retries wait
        ({}, 2.0),  # botocore's defaults: 60 s reads
    ],
)
def test_an_attempt_its_timeouts_do_not_bound_in_time_is_handed_to_a_worker(
    config: dict[str, Any], seconds_left: float
) -> None:
    calls: list[threading.Thread] = []
    publisher = EventBridgePublisher("bus", "src", client=answered_events(calls, **config))
    publisher.publish([_event()], deadline=Deadline.after(seconds_left))
    assert len(calls) == 1 and calls[0] is not threading.current_thread()
