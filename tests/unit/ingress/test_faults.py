"""What the ingress answers when the bus, the replay guard or the clock do not cooperate, and to replays."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlencode

import pytest

from chalicelib.budget import answer_deadline
from chalicelib.deps import IngressDeps
from chalicelib.handler import handle_slash_http
from chalicelib.publishing import PUBLISH_SECONDS
from shared.deadline import Deadline
from shared.events.models import Event
from shared.events.publisher import NotPublishedError, PublishError, PublishOutcomeUnknownError
from shared.locks.models import Lock
from shared.replay import SignedRequest
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.ingress import MemoryReplayGuard, ingress_deps
from tests.support.fakes.locks import MemoryLockStore
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, signed_headers, signed_request, slash_form

DEPLOY = "deploy --client acme --branch main"


class FailingPublisher:
    """A bus that fails in a chosen way, and records the deadline it was given."""

    def __init__(self, error: PublishError) -> None:
        self.error = error
        self.deadlines: list[Deadline | None] = []

    def publish(self, events: Sequence[Event], *, deadline: Deadline | None = None) -> None:
        self.deadlines.append(deadline)
        raise self.error


def test_a_bus_that_did_not_confirm_is_answered_may_have_been_queued_with_the_id(ingress: Ingress) -> None:
    ingress.deps.publisher = FailingPublisher(PublishOutcomeUnknownError("ReadTimeoutError"))
    status, payload = ingress.send(DEPLOY)
    text = message_text(payload)
    assert status == 200
    assert "may have been queued as `c0ffee123456`" in text and "/ops status c0ffee123456" in text
    assert "Do not send it again" in text
    assert "nothing was started" not in text and "Command not queued" not in text


def test_a_bus_that_refused_is_answered_not_queued_nothing_started(ingress: Ingress) -> None:
    ingress.deps.publisher = FailingPublisher(NotPublishedError("EndpointConnectionError"))
    _, payload = ingress.send(DEPLOY)
    text = message_text(payload)
    assert "Command not queued" in text and "nothing was started" in text and "try again" in text


def test_the_publisher_gets_the_requests_deadline(ingress: Ingress) -> None:
    publisher = FailingPublisher(NotPublishedError("x"))
    ingress.deps.publisher = publisher
    ingress.send(DEPLOY)
    [deadline] = publisher.deadlines
    assert deadline is not None and 0 < deadline.remaining() <= 2.5


def test_the_same_signed_request_twice_is_published_once_and_names_the_first_id(ingress: Ingress) -> None:
    ingress.deps.new_id = iter(["aaaaaa111111", "bbbbbb222222"]).__next__
    body, headers = signed_request(DEPLOY)

    _, first = ingress.post(body, headers)
    status, second = ingress.post(body, headers)

    assert "accepted as `aaaaaa111111`" in message_text(first)
    text = message_text(second)
    assert status == 200
    assert "already received as `aaaaaa111111`" in text and "not run again" in text
    assert "/ops status aaaaaa111111" in text
    assert [event.command_id for event in ingress.publisher.events] == ["aaaaaa111111"]


def test_a_different_request_is_published(ingress: Ingress) -> None:
    ingress.deps.new_id = iter(["aaaaaa111111", "bbbbbb222222"]).__next__
    ingress.send(DEPLOY)
    ingress.send(DEPLOY, trigger_id="another.trigger")  # typed again: Slack signs a new body
    assert [event.command_id for event in ingress.publisher.events] == ["aaaaaa111111", "bbbbbb222222"]


def test_answers_that_publish_nothing_may_be_given_again(ingress: Ingress) -> None:
    body, headers = signed_request("help deploy")
    assert "Usage" in message_text(ingress.post(body, headers)[1])
    assert "Usage" in message_text(ingress.post(body, headers)[1])


def test_an_unreachable_replay_guard_fails_closed(ingress: Ingress) -> None:
    ingress.deps.replays = MemoryReplayGuard(unavailable=True)
    _, payload = ingress.send(DEPLOY)
    text = message_text(payload)
    assert "Command not queued" in text and "nothing was started" in text
    assert not ingress.publisher.requested


def _answer_with(deps: IngressDeps, deadline: Deadline | None = None) -> tuple[int, str, float]:
    body, headers = signed_request(DEPLOY)
    started = time.monotonic()
    answer = handle_slash_http(
        body, headers, signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps, deadline=deadline
    )
    return answer.status, message_text(json.loads(answer.body)), time.monotonic() - started


def _deps(publisher: RecordingPublisher) -> IngressDeps:
    return ingress_deps(publisher=publisher)


def test_a_request_already_out_of_time_is_not_published() -> None:
    publisher = RecordingPublisher()
    status, text, _ = _answer_with(_deps(publisher), Deadline.after(0.1))
    assert status == 200 and "Command not queued" in text and "nothing was started" in text
    assert not publisher.requested


def test_a_request_arriving_late_is_still_verified_then_not_published() -> None:
    def secret() -> str:
        time.sleep(0.05)  # a secret from Powertools' cache still takes a moment
        return SIGNING_SECRET

    publisher = RecordingPublisher()
    body, headers = signed_request(DEPLOY)
    answer = handle_slash_http(
        body, headers, signing_secret=secret, deps=lambda: _deps(publisher), deadline=Deadline.after(-1.0)
    )
    text = message_text(json.loads(answer.body))
    assert answer.status == 200 and "Command not queued" in text and "cannot verify" not in text
    assert not publisher.requested


def test_a_signing_secret_that_hangs_is_answered_within_the_budget() -> None:
    release = threading.Event()
    body, headers = signed_request(DEPLOY)
    started = time.monotonic()
    try:
        answer = handle_slash_http(
            body,
            headers,
            signing_secret=lambda: str(release.wait(10)),
            deps=lambda: _deps(RecordingPublisher()),
            deadline=Deadline.after(0.3),
        )
    finally:
        release.set()
    assert time.monotonic() - started < 3.0  # the secret hangs for 10 s: the answer never waits for it (load-proof)
    assert "could not verify that this request came from Slack in time" in json.loads(answer.body)["text"]


def test_the_budget_counts_from_api_gateways_arrival_time() -> None:
    wall, mono = 1_000.0, 50.0
    assert answer_deadline(None, wall=lambda: wall, clock=lambda: mono).at == pytest.approx(52.5)
    arrived_ms = (wall - 1.0) * 1000  # a cold start took a second before our code ran
    assert answer_deadline(arrived_ms, wall=lambda: wall, clock=lambda: mono).at == pytest.approx(51.5)
    skewed_ms = (wall + 60) * 1000  # in the future: a clock is off, do not trust it
    assert answer_deadline(skewed_ms, wall=lambda: wall, clock=lambda: mono).at == pytest.approx(52.5)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x", ""])
def test_an_unsigned_request_is_401_whatever_its_content_type(ingress: Ingress, content_type: str) -> None:
    body = urlencode(slash_form(DEPLOY)).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    response = ingress.client.http.post("/slack/commands", headers=headers, body=body)
    assert response.status_code == 401
    assert json.loads(response.body) == {"error": "invalid signature"}


def test_a_signed_request_with_another_content_type_is_415(ingress: Ingress) -> None:
    body = json.dumps(slash_form(DEPLOY)).encode()
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    response = ingress.client.http.post("/slack/commands", headers=headers, body=body)
    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in json.loads(response.body)["error"]
    assert not ingress.publisher.requested


def test_a_form_with_a_charset_is_accepted(ingress: Ingress) -> None:
    body = urlencode(slash_form(DEPLOY)).encode()
    headers = {**signed_headers(body), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    response = ingress.client.http.post("/slack/commands", headers=headers, body=body)
    assert response.status_code == 200 and "accepted" in response.body.decode()


class DeadlineRecordingGuard(MemoryReplayGuard):
    def __init__(self) -> None:
        super().__init__()
        self.deadlines: list[Deadline] = []

    def first_sighting(self, request: SignedRequest, command_id: str, *, deadline: Deadline) -> str | None:
        self.deadlines.append(deadline)
        return super().first_sighting(request, command_id, deadline=deadline)


class DeadlineRecordingLocks(MemoryLockStore):
    def __init__(self) -> None:
        super().__init__()
        self.deadlines: list[Deadline] = []

    def get(self, client: str, env: str, *, deadline: Deadline) -> Lock | None:
        self.deadlines.append(deadline)
        return super().get(client, env, deadline=deadline)


def test_the_lock_check_and_the_replay_guard_leave_time_to_publish() -> None:
    """Late in the budget (a cold start, a slow lock table), a slow guard or lock check must end in a clean "not
    queued" or "lock table unavailable", never in a `PutEvents` cut so short that the answer is "may have been
    queued". They run at the same time, so each gets the whole time until then, not a slice of it."""
    guard, locks = DeadlineRecordingGuard(), DeadlineRecordingLocks()
    deadline = Deadline.after(1.2)

    status, text, _ = _answer_with(ingress_deps(replays=guard, locks=locks), deadline)

    assert status == 200 and "accepted as" in text
    [guard_deadline] = guard.deadlines
    assert len(locks.deadlines) == 2  # the environment's ad-hoc freeze, then the target's lock: one table
    assert all(read.at == guard_deadline.at == deadline.at - PUBLISH_SECONDS for read in locks.deadlines)
