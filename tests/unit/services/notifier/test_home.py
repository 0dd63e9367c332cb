"""The notifier refreshes the Home tab when something on it changes for a user (services/notifier/home.py): the
approvers named by ID when a request is held for them, the requester and approvers when it is decided, the
requester when their command finishes — from the ledger, and never at the cost of the event's own delivery."""

from __future__ import annotations

from typing import Any

import pytest

from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from shared.slack.approvals import APPROVE, DENY
from tests.support.clock import Clock
from tests.support.events import approval_decided, approval_requested, command_requested, progress, reply_to, succeeded
from tests.support.fakes.home import MemoryHome
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack
from tests.support.ingress import message_text

ID = "abc123def456"


@pytest.fixture
def home() -> MemoryHome:
    return MemoryHome()


@pytest.fixture
def deps(ledger: InMemoryLedger, slack: RecordingSlack, clock: Clock, home: MemoryHome) -> NotifierDeps:
    return NotifierDeps(ledger=ledger, slack=slack, now=clock, home=home)


def shown(view: dict[str, Any]) -> str:
    return message_text({"blocks": view["blocks"]})


def buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (element["action_id"], element["value"])
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_held_request_appears_on_the_homes_of_its_approvers_named_by_id(deps: NotifierDeps, home: MemoryHome) -> None:
    handle_event(approval_requested(ID, reply_to=reply_to("https://hooks.example/r/1")), deps)
    assert list(home.published) == ["U0BOB"]  # not the requester; a group (S0SRE) cannot be listed here
    view = home.latest("U0BOB")
    assert buttons(view) == [(APPROVE, ID), (DENY, ID)]
    text = shown(view)
    assert "<@U0ABC> asks to run `/ops deploy --client acme --branch main --env production`" in text
    assert "Locks, freezes and backups" in text and "Shown when you open this tab" in text


def test_a_decision_takes_the_request_off_the_approvers_home_and_refreshes_the_requesters(
    deps: NotifierDeps, home: MemoryHome
) -> None:
    handle_event(approval_requested(ID, reply_to=reply_to("https://hooks.example/r/1")), deps)
    handle_event(approval_decided(ID, "denied", by="U0BOB").model_copy(update={"requester": "U0ABC"}), deps)
    assert buttons(home.latest("U0BOB")) == []
    assert "Nothing waits for you." in shown(home.latest("U0BOB"))
    assert f"`{ID}` `deploy`" in shown(home.latest("U0ABC"))


def test_a_finished_command_moves_from_running_to_the_last_ten(
    deps: NotifierDeps, home: MemoryHome, ledger: InMemoryLedger, clock: Clock
) -> None:
    handle_event(command_requested(ID, user="U0ABC"), deps)
    handle_event(progress("building", command_id=ID), deps)
    assert "U0ABC" not in home.published  # progress is not a change the Home is refreshed for
    handle_event(succeeded(ID), deps)
    text = shown(home.latest("U0ABC"))
    running = text.split("*Your commands running now*")[1].split("*Your last 10 commands*")[0]
    assert ID not in running and "None of your commands is running." in running
    assert f":white_check_mark: `{ID}` `deploy`" in text.split("*Your last 10 commands*")[1]


def test_slack_refusing_the_home_does_not_fail_the_events_delivery(
    deps: NotifierDeps, home: MemoryHome, slack: RecordingSlack
) -> None:
    home.unavailable = True
    outcome = handle_event(approval_requested(ID, reply_to=reply_to("https://hooks.example/r/1")), deps)
    assert outcome == "channel" and home.published == {}


def test_without_a_home_publisher_nothing_is_refreshed(
    ledger: InMemoryLedger, slack: RecordingSlack, clock: Clock
) -> None:
    deps = NotifierDeps(ledger=ledger, slack=slack, now=clock)
    assert handle_event(approval_requested(ID, reply_to=reply_to("https://hooks.example/r/1")), deps) == "channel"


def test_a_burst_of_one_users_finished_commands_refreshes_their_home_once_per_interval(
    deps: NotifierDeps, home: MemoryHome, clock: Clock
) -> None:
    """Each refresh reads the ledger: 50 commands finishing at once refresh the Home once, the next one after
    `FINISHED_EVERY` again; approval events are never held back."""
    from services.notifier.home import FINISHED_EVERY

    for number in range(50):
        command_id = f"burst{number:07d}"
        handle_event(command_requested(command_id, user="U0ABC"), deps)
        handle_event(succeeded(command_id), deps)
    assert len(home.published["U0ABC"]) == 1
    clock.now += FINISHED_EVERY
    handle_event(command_requested("burst9999999", user="U0ABC"), deps)
    handle_event(succeeded("burst9999999"), deps)
    assert len(home.published["U0ABC"]) == 2 and "burst9999999" in shown(home.latest("U0ABC"))
    for number in range(3):
        handle_event(approval_requested(f"held{number:08d}", reply_to=reply_to("https://hooks.example/r/1")), deps)
    assert len(home.published["U0BOB"]) == 3
