"""Button clicks through `/slack/interactions` on the real Chalice app: verified like commands, re-validated, re-
authorized for the clicker, published as a new `CommandRequested` (the ingress never does the work)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from shared.events.models import CommandRefused, CommandRequested
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import RecordingResponder, ingress_deps
from tests.support.ingress import SEED_RULES, Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_click, signed_headers


@pytest.fixture
def ingress() -> Iterator[Ingress]:
    """Fresh command ids (`new0000000001`, …), so a click's id is visibly not the typed command's."""
    counter = itertools.count(1)
    publisher = RecordingPublisher()
    deps = ingress_deps(
        publisher=publisher,
        new_id=lambda: f"new{next(counter):09d}",
        now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def requested(ingress: Ingress) -> list[CommandRequested]:
    return [event for event in ingress.publisher.events if isinstance(event, CommandRequested)]


def posted(ingress: Ingress) -> list[dict[str, Any]]:
    responder = ingress.deps.responder
    assert isinstance(responder, RecordingResponder)
    return [message.payload() for _, message in responder.posted]


def test_the_prompt_button_clicked_publishes_one_confirmed_restore_for_the_clicker(ingress: Ingress) -> None:
    _, prompt = ingress.send("restore --db orders --from b1", user_id="U0ABC")
    [button] = next(block for block in prompt["blocks"] if block["type"] == "actions")["elements"]

    status, answer = ingress.click(*signed_click(value=button["value"], user_id="U0ABC", user_name="alice"))

    assert status == 200
    [event] = requested(ingress)
    assert event.command == "restore" and event.command_id == "new000000001"
    assert event.arguments == {"db": "orders", "from": "b1", "confirm": "orders"}
    assert event.actor.user_id == "U0ABC" and event.actor.user_name == "alice"
    assert event.place.channel_id == "C0123"
    assert event.reply_to.response_url == "https://hooks.slack.com/actions/T0001/1234/abcd"
    assert event.text == "restore --db orders --from b1 --confirm orders"
    assert "accepted as `new000000001`" in message_text(answer)
    [shown] = posted(ingress)  # Slack ignores a click's HTTP body: the answer goes to its response_url
    assert shown["replace_original"] is True and "accepted as `new000000001`" in message_text(shown)


def test_a_replayed_click_is_answered_without_publishing_again(ingress: Ingress) -> None:
    body, headers = signed_click()
    ingress.click(body, headers)
    status, again = ingress.click(body, headers)

    assert status == 200
    assert len(requested(ingress)) == 1
    assert "was sent as `new000000001`" in message_text(again)  # a button: every click on it is one request


def test_a_double_click_on_one_prompt_runs_the_restore_once(ingress: Ingress) -> None:
    """Two clicks are two signed requests (their action_ts differs), but one button: one restore."""
    first, second = click_payload(), click_payload(user_id="U0ABC")
    second["actions"][0]["action_ts"] = "1764400010.000900"
    second["trigger_id"] = "13345224609.738474920.another"
    for payload in (first, second):
        body = click_body(payload)
        status, answer = ingress.click(body, signed_headers(body))

    assert status == 200 and len(requested(ingress)) == 1
    assert "was sent as `new000000001`" in message_text(answer) and "Your click sent nothing again" in message_text(
        answer
    )


def test_clicks_on_two_prompts_are_two_restores(ingress: Ingress) -> None:
    first, second = click_payload(), click_payload()
    second["container"]["message_ts"] = "1764400055.000300"
    for payload in (first, second):
        body = click_body(payload)
        ingress.click(body, signed_headers(body))

    assert [event.command_id for event in requested(ingress)] == ["new000000001", "new000000002"]


def test_a_clicker_the_rules_refuse_gets_a_private_refusal_and_nothing_runs(ingress: Ingress) -> None:
    status, answer = ingress.click(*signed_click(user_id="U9MALLORY", user_name="mallory"))

    assert status == 200 and requested(ingress) == []
    assert answer["response_type"] == "ephemeral" and "not allowed" in message_text(answer).lower()
    [shown] = posted(ingress)
    assert shown["response_type"] == "ephemeral" and "not allowed" in message_text(shown).lower()
    [refusal] = [e for e in ingress.publisher.events if isinstance(e, CommandRefused)]
    assert refusal.actor.user_id == "U9MALLORY" and refusal.decision == "not allowed"


def test_another_admitted_user_may_confirm_and_is_the_actor(ingress: Ingress) -> None:
    """The button is in the requester's ephemeral answer, but whoever clicks must pass the rules themselves."""
    ingress.deps.config = StaticConfig.from_text(json.dumps([{"command": "restore", "users": ["U0ABC", "U0BOB"]}]))
    ingress.click(*signed_click(user_id="U0BOB", user_name="bob"))
    [event] = requested(ingress)
    assert event.actor.user_id == "U0BOB" and event.actor.user_name == "bob"


@pytest.mark.parametrize(
    "value",
    [
        '{"db":"orders","from":"b1","confirm":"billing"}',  # extra field: not a value we made
        '{"db":"orders --confirm x","from":"b1"}',  # smuggled option: one token, refused by the parser
        '{"db":"Orders","from":"b1"}',  # not an identifier
        "restore --db orders --from b1",  # not JSON
        "",
        '{"db":"orders","from":"b1\\u202e"}',  # bidi control: refused like typed text
    ],
)
def test_a_button_value_is_never_trusted(ingress: Ingress, value: str) -> None:
    status, answer = ingress.click(*signed_click(value=value))

    assert status == 200 and requested(ingress) == []
    assert "nothing was run" in message_text(answer) or "Invalid arguments" in message_text(answer)


def test_an_unlisted_database_in_a_button_is_refused_like_typed_text(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text(
        json.dumps({"access": json.loads(SEED_RULES), "backup": {"databases": ["billing"]}})
    )
    _, answer = ingress.click(*signed_click())
    assert requested(ingress) == [] and "not a database slashops can restore" in message_text(answer)


def test_an_unknown_action_gets_a_clear_answer(ingress: Ingress) -> None:
    status, answer = ingress.click(*signed_click(action_id="deploy.approve"))

    assert status == 200 and requested(ingress) == []
    assert "Unknown button" in message_text(answer) and "`deploy.approve`" in message_text(answer)


def test_forged_and_stale_clicks_are_refused_with_401(ingress: Ingress) -> None:
    body = click_body(click_payload())
    forged = signed_headers(body, secret="not-the-secret")
    stale = signed_headers(body, timestamp=int(time.time()) - 301)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}

    for headers in (forged, stale, unsigned):
        status, _ = ingress.click(body, headers)
        assert status == 401
    assert ingress.publisher.events == [] and posted(ingress) == []


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[]",
        json.dumps({"type": "view_submission"}),
        json.dumps({**click_payload(), "actions": []}),
        json.dumps({**click_payload(), "user": {}}),
        json.dumps({**click_payload(), "response_url": "javascript:alert(1)"}),
        json.dumps({**click_payload(), "channel": None, "container": {}}),  # no channel: who clicked where?
    ],
)
def test_malformed_payloads_get_a_clear_answer_never_a_5xx(ingress: Ingress, payload: str) -> None:
    body = click_body(payload)
    status, answer = ingress.click(body, signed_headers(body))

    assert status == 200 and requested(ingress) == []
    assert "nothing was run" in message_text(answer)


def test_a_form_without_payload_gets_a_clear_answer(ingress: Ingress) -> None:
    body = b"text=restore"
    status, answer = ingress.click(body, signed_headers(body))
    assert status == 200 and "no `payload` field" in message_text(answer)


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 100_000 + "]" * 100_000,
        json.dumps({**click_payload(), "message": {"blocks": "<deep>"}}).replace(
            '"<deep>"', "[" * 100_000 + "]" * 100_000
        ),
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        "[" * 100_000,
    ],
    ids=["array", "inside a real click", "object", "unclosed"],
)
def test_a_payload_nested_100000_deep_gets_a_clear_refusal_not_an_incident(ingress: Ingress, payload: str) -> None:
    body = click_body(payload)
    status, answer = ingress.click(body, signed_headers(body))

    assert status == 200 and requested(ingress) == [] and posted(ingress) == []
    assert "nothing was run" in message_text(answer) and "nested more than 64 deep" in message_text(answer)
    assert "incident" not in message_text(answer)


def test_a_payload_as_deep_as_slack_sends_is_read(ingress: Ingress) -> None:
    blocks = [{"type": "rich_text", "elements": [{"type": "rich_text_list", "elements": [{"elements": [[[[[]]]]]}]}]}]
    body = click_body({**click_payload(), "message": {"blocks": blocks}})
    status, answer = ingress.click(body, signed_headers(body))
    assert status == 200 and "not a button click" not in message_text(answer)
