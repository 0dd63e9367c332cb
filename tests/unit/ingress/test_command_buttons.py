"""The Cancel and Retry buttons of an announced command's channel message, through `/slack/interactions` on the real
Chalice app: each is the command a user could type, run for the clicker with the same rules, once per message."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from shared.events.models import ApprovalRequested, CommandRefused, CommandRequested
from shared.slack.actions import CANCEL, RETRY
from tests.support.events import at, command_requested, failed, succeeded
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import RecordingResponder, ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.ingress import SEED_RULES, Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers

FAILED_ID = "abc123def456"
TEXT = "deploy --client acme --branch main --env staging"


@pytest.fixture
def ledger() -> InMemoryLedger:
    ledger = InMemoryLedger()
    ledger.record(command_requested(FAILED_ID, text=TEXT, arguments={"client": "acme", "branch": "main"}), now=at(0))
    ledger.record(failed(FAILED_ID), now=at(5))
    return ledger


RULES = json.dumps(
    [
        *json.loads(SEED_RULES),
        {"command": "deploy", "users": ["U0BOB"], "channels": ["C0999"]},  # Bob may see deploys, not run them here
    ]
)


@pytest.fixture
def ingress(ledger: InMemoryLedger) -> Iterator[Ingress]:
    counter = itertools.count(1)
    publisher = RecordingPublisher()
    deps = ingress_deps(
        config=StaticConfig.from_text(RULES),
        publisher=publisher,
        ledger=ledger,
        new_id=lambda: f"new{next(counter):09d}",
        now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def press(ingress: Ingress, action: str, value: str, *, user: str = "U0ABC", **changes: Any) -> dict[str, Any]:
    """A click on a button of the bot's channel message (not ephemeral)."""
    payload = click_payload(action, value, user_id=user, user_name=user.lower())
    payload["container"].update(is_ephemeral=False, message_ts="1764331200.000001")
    payload["actions"][0].update(changes)
    body = click_body(payload)
    status, answer = ingress.click(body, signed_headers(body))
    assert status == 200
    return answer


def requested(ingress: Ingress) -> list[CommandRequested]:
    return [event for event in ingress.publisher.events if isinstance(event, CommandRequested)]


def shown(ingress: Ingress) -> list[dict[str, Any]]:
    responder = ingress.deps.responder
    assert isinstance(responder, RecordingResponder)
    return [message.payload() for _, message in responder.posted]


def test_cancel_is_the_cancel_command_for_the_clicker_and_keeps_the_channel_message(ingress: Ingress) -> None:
    answer = press(ingress, CANCEL, FAILED_ID, user="U0BOB")

    [event] = requested(ingress)
    assert event.command == "cancel" and event.arguments == {"id": FAILED_ID}
    assert event.actor.user_id == "U0BOB" and event.text == f"cancel {FAILED_ID}"
    assert event.reply_to.keep_original  # the notifier will not replace the channel message with the result
    assert "accepted as `new000000001`" in message_text(answer)
    [posted] = shown(ingress)
    assert posted["replace_original"] is False and posted["response_type"] == "ephemeral"


def test_a_double_click_on_cancel_asks_once(ingress: Ingress) -> None:
    press(ingress, CANCEL, FAILED_ID)
    again = press(ingress, CANCEL, FAILED_ID, user="U0BOB", action_ts="1764400099.000001")
    assert len(requested(ingress)) == 1
    assert "This button was already pressed: `cancel` was sent as `new000000001`" in message_text(again)


def test_a_second_clicker_is_told_who_pressed_first_not_that_they_sent_it(
    ingress: Ingress, ledger: InMemoryLedger
) -> None:
    """Issue 21.7: U0BOB never sent anything; the answer names who did and what came of it."""
    press(ingress, CANCEL, FAILED_ID, user="U0ABC")
    [first] = requested(ingress)
    ledger.record(first, now=at(6))  # the notifier recorded the first press
    again = message_text(press(ingress, CANCEL, FAILED_ID, user="U0BOB", action_ts="1764400099.000001"))
    assert "<@U0ABC> already pressed this button: `cancel` was sent as `new000000001` (requested)" in again
    assert "Your click sent nothing again." in again and "This request was already received" not in again
    own = message_text(press(ingress, CANCEL, FAILED_ID, user="U0ABC", action_ts="1764400099.000002"))
    assert "You already pressed this button" in own


def test_retry_runs_the_same_command_text_as_a_new_command_for_the_clicker(ingress: Ingress) -> None:
    answer = press(ingress, RETRY, FAILED_ID, user="U0ABC")

    [event] = requested(ingress)
    assert event.command == "deploy" and event.command_id == "new000000001" != FAILED_ID
    assert event.arguments == {"client": "acme", "branch": "main", "env": "staging"}
    assert event.text == TEXT and event.actor.user_id == "U0ABC"
    assert event.place.channel_id == "C0123" and event.reply_to.visibility == "in_channel"
    assert "accepted as `new000000001`" in message_text(answer)
    assert shown(ingress)[0]["replace_original"] is False


def test_retry_goes_through_the_access_rules_for_the_clicker(ingress: Ingress) -> None:
    """Bob may see deploys (a rule admits him elsewhere) but not run one in this channel."""
    answer = press(ingress, RETRY, FAILED_ID, user="U0BOB")

    assert requested(ingress) == []
    assert "not allowed" in message_text(answer).lower()
    [refusal] = [e for e in ingress.publisher.events if isinstance(e, CommandRefused)]
    assert refusal.actor.user_id == "U0BOB" and refusal.command == "deploy"
    assert shown(ingress)[0]["replace_original"] is False  # a refusal never replaces the channel message either


def test_retry_once_per_message(ingress: Ingress) -> None:
    press(ingress, RETRY, FAILED_ID)
    press(ingress, RETRY, FAILED_ID, action_ts="1764400099.000001")
    assert len(requested(ingress)) == 1


def test_only_a_failed_command_is_retried(ingress: Ingress, ledger: InMemoryLedger) -> None:
    ledger.record(command_requested("0000000000ok", text=TEXT), now=at(0))
    ledger.record(succeeded("0000000000ok"), now=at(5))

    answer = press(ingress, RETRY, "0000000000ok")
    unknown = press(ingress, RETRY, "0000000000no")

    assert requested(ingress) == []
    assert "succeeded: only a failed command is retried, so nothing was run" in message_text(answer)
    assert "is succeeded" not in message_text(answer)
    assert "There is no command `0000000000no` that you can see." in message_text(unknown)


@pytest.mark.parametrize("action", [CANCEL, RETRY])
def test_a_button_value_that_is_not_a_command_id_runs_nothing(ingress: Ingress, action: str) -> None:
    answer = press(ingress, action, "abc; deploy --client evil")
    assert requested(ingress) == []
    assert "does not carry a command id" in message_text(answer)
    assert shown(ingress)[0]["replace_original"] is False


def test_a_retry_the_rules_hold_for_approval_shows_the_approval_request_to_the_channel(ingress: Ingress) -> None:
    """GIVEN deploys need approval WHEN Retry is pressed THEN nothing runs, the approval request goes to the channel
    (the notifier posts it, with its buttons, from `ApprovalRequested`: approvers must see it), and the clicker is told
    beside the failed deploy's message, not instead of it."""
    ingress.deps.config = StaticConfig.from_text(
        '[{"command": "deploy", "approval": {"users": ["U0APPROVER"]}}, {"command": "status"}]'
    )
    press(ingress, RETRY, FAILED_ID, user="U0ABC")

    assert requested(ingress) == []
    [posted] = shown(ingress)
    assert posted["response_type"] == "ephemeral" and posted["replace_original"] is False
    assert "needs approval (access rule #1) by <@U0APPROVER>" in message_text(posted)
    [held] = [event for event in ingress.publisher.events if isinstance(event, ApprovalRequested)]
    assert held.reply_to is not None and held.reply_to.channel_id == held.place.channel_id
    assert held.actor.user_id == "U0ABC" and held.approvers == ("U0APPROVER",)


def typed_status(ingress: Ingress, command_id: str, user: str) -> dict[str, Any]:
    status, answer = ingress.send(f"status {command_id}", user_id=user, user_name=user.lower())
    assert status == 200
    return answer


@pytest.mark.parametrize("action", [CANCEL, RETRY])
@pytest.mark.parametrize("command_id", [FAILED_ID, "0000000000no"], ids=["someone-elses", "unknown"])
def test_a_click_naming_a_command_the_clicker_may_not_see_is_answered_as_status_answers(
    ingress: Ingress, action: str, command_id: str
) -> None:
    """Issue 19, finding 4: Eve may not see Alice's deploy (no rule admits her to deploy anywhere). `status <id>`
    tells her there is no such command she can see; a button naming it says exactly that, whether the command
    exists or not — neither its state nor its text — and runs nothing."""
    answer = press(ingress, action, command_id, user="U0EVE")

    assert requested(ingress) == [] and ingress.publisher.events == []
    expected = typed_status(ingress, command_id, "U0EVE")
    assert (answer["text"], answer["blocks"]) == (expected["text"], expected["blocks"])
    assert f"There is no command `{command_id}` that you can see." in message_text(answer)
    shown = json.dumps(answer)
    assert "failed" not in shown and "acme" not in shown and "deploy" not in shown
    assert shown_to_clicker_only(ingress)


def test_a_button_naming_a_command_answers_its_owner_and_those_who_may_see_it(ingress: Ingress) -> None:
    """The owner (Alice) and whoever may see deploys (Bob) get past the visibility check, as `status` shows them."""
    for user in ("U0ABC", "U0BOB"):
        assert "There is no command" not in message_text(typed_status(ingress, FAILED_ID, user))
        answer = press(ingress, CANCEL, FAILED_ID, user=user, action_ts=f"1764400099.00000{len(user)}")
        assert "There is no command" not in message_text(answer)


def shown_to_clicker_only(ingress: Ingress) -> bool:
    return all(
        posted["response_type"] == "ephemeral" and posted["replace_original"] is False for posted in shown(ingress)
    )
