"""`POST /slack/events` through the real Chalice app on fakes: the challenge, verification, one processing per
event (retries and replays answered 200, not processed again), and the Home published on `app_home_opened`."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from shared.errors import ConfigurationError
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.home import MemoryHome
from tests.support.fakes.ingress import MemoryReplayGuard, ingress_deps
from tests.support.ingress import Ingress
from tests.support.slack import SIGNING_SECRET, signed_headers
from tests.support.slack_events import event_body, home_opened, signed_event_headers

RULES = json.dumps([{"command": "*"}])


@pytest.fixture
def home() -> MemoryHome:
    return MemoryHome()


@pytest.fixture
def ingress(home: MemoryHome) -> Iterator[Ingress]:
    counter = itertools.count(1)
    publisher = RecordingPublisher()
    deps = ingress_deps(
        config=StaticConfig.from_text(RULES), publisher=publisher, home=home, new_id=lambda: f"id{next(counter):010d}"
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def post_event(ingress: Ingress, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    response = ingress.client.http.post("/slack/events", headers=headers, body=body)
    return response.status_code, response.body.decode() if isinstance(response.body, bytes) else response.body


def test_the_url_verification_challenge_is_echoed_once_verified(ingress: Ingress) -> None:
    body = event_body(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    status, answer = post_event(ingress, body, signed_event_headers(body))
    assert status == 200
    assert json.loads(answer) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_an_unsigned_or_forged_event_is_refused_and_nothing_is_published(ingress: Ingress, home: MemoryHome) -> None:
    body = event_body(home_opened())
    forged = signed_event_headers(body) | {"X-Slack-Signature": "v0=" + "0" * 64}
    assert post_event(ingress, body, forged)[0] == 401
    assert post_event(ingress, body, {"Content-Type": "application/json"})[0] == 401
    challenge = event_body({"challenge": "c", "type": "url_verification"})
    status, answer = post_event(ingress, challenge, {"Content-Type": "application/json"})
    assert status == 401 and "c" not in json.loads(answer).values()
    assert home.published == {}


def test_a_signed_form_is_not_an_event(ingress: Ingress) -> None:
    body = event_body(home_opened())
    assert post_event(ingress, body, signed_headers(body))[0] == 415  # form content type: wrong door


def test_app_home_opened_publishes_that_users_home(ingress: Ingress, home: MemoryHome) -> None:
    body = event_body(home_opened("U0BOB"))
    status, answer = post_event(ingress, body, signed_event_headers(body))
    assert (status, answer) == (200, "")
    view = home.latest("U0BOB")
    assert view["type"] == "home"
    assert list(home.published) == ["U0BOB"]


def test_a_retried_event_is_answered_and_processed_once(ingress: Ingress, home: MemoryHome) -> None:
    body = event_body(home_opened("U0BOB", event_id="Ev0RETRY01"))
    assert post_event(ingress, body, signed_event_headers(body))[0] == 200
    for retry in (1, 2, 3):  # Slack's retries: the same event_id, signed anew each time
        assert (
            post_event(ingress, body, signed_event_headers(body, retry=retry, timestamp=int(time.time()) + retry))[0]
            == 200
        )
    assert len(home.published["U0BOB"]) == 1
    other = event_body(home_opened("U0BOB", event_id="Ev0RETRY02"))  # a new visit is a new event
    assert post_event(ingress, other, signed_event_headers(other))[0] == 200
    assert len(home.published["U0BOB"]) == 2


def test_a_replayed_event_without_a_retry_header_is_processed_once(ingress: Ingress, home: MemoryHome) -> None:
    body = event_body(home_opened("U0BOB", event_id="Ev0REPLAY1"))
    headers = signed_event_headers(body)
    for _ in range(3):
        assert post_event(ingress, body, headers)[0] == 200
    assert len(home.published["U0BOB"]) == 1


def test_a_retry_header_alone_does_not_skip_a_new_event(ingress: Ingress, home: MemoryHome) -> None:
    body = event_body(home_opened("U0BOB", event_id="Ev0FIRST01"))
    assert post_event(ingress, body, signed_event_headers(body, retry=1))[0] == 200
    assert len(home.published["U0BOB"]) == 1


def test_no_replay_guard_no_processing(ingress: Ingress, home: MemoryHome) -> None:
    ingress.deps.replays = MemoryReplayGuard(unavailable=True)
    body = event_body(home_opened("U0BOB"))
    assert post_event(ingress, body, signed_event_headers(body))[0] == 200  # answered: a retry would not help
    assert home.published == {}


@pytest.mark.parametrize(
    "payload",
    [
        home_opened("U0BOB", tab="messages"),
        {"type": "event_callback", "event_id": "Ev0OTHER01", "event": {"type": "member_joined_channel"}},
        {"type": "app_rate_limited"},
        {"type": "event_callback"},
    ],
)
def test_other_and_unreadable_events_are_answered_and_ignored(
    ingress: Ingress, home: MemoryHome, payload: dict[str, Any]
) -> None:
    body = event_body(payload)
    assert post_event(ingress, body, signed_event_headers(body))[0] == 200
    assert home.published == {}


def test_not_json_is_answered_and_ignored(ingress: Ingress, home: MemoryHome) -> None:
    body = b"{not json"
    assert post_event(ingress, body, signed_event_headers(body))[0] == 200
    assert home.published == {}


def test_slack_refusing_the_view_still_answers_200(ingress: Ingress, home: MemoryHome) -> None:
    home.unavailable = True
    body = event_body(home_opened("U0BOB"))
    assert post_event(ingress, body, signed_event_headers(body))[0] == 200


def test_an_unreadable_configuration_publishes_no_home(ingress: Ingress, home: MemoryHome) -> None:
    ingress.deps.config = StaticConfig(ConfigurationError("the configuration parameter is missing"))
    body = event_body(home_opened("U0BOB"))
    assert post_event(ingress, body, signed_event_headers(body)) == (200, "")
    assert home.published == {}
