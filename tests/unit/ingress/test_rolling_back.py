"""`/ops rollback`: which deploy it goes back to (across succeeded, failed, cancelled and rolled-back histories), and
that it is then a deploy like any other (issue 22.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from app import create_app
from chalicelib.rolling_back import choose
from services.notifier.messages import parent_message
from shared.events.models import CommandRequested
from shared.slack.actions import ROLLBACK
from tests.support.events import cancelled, command_requested, failed, succeeded
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _history(*deploys: tuple[str, str, str, str]) -> InMemoryLedger:
    """(id, branch, outcome, rollback_of), oldest first; `env` production for all."""
    ledger = InMemoryLedger()
    for minute, (command_id, branch, outcome, rollback_of) in enumerate(deploys):
        arguments = {"client": "acme", "branch": branch, "env": "production"}
        ledger.record(command_requested(command_id, arguments=arguments, minute=minute, rollback_of=rollback_of),
                      now=NOW)  # fmt: skip
        end = {"succeeded": succeeded, "failed": failed, "cancelled": cancelled}[outcome]
        ledger.record(end(command_id, minute=minute + 0.5), now=NOW)
    return ledger


def _choice(ledger: InMemoryLedger) -> tuple[str, str] | None:
    chosen = choose(ledger.iter_recent(command="deploy"), "acme", "production")
    return None if chosen is None else (chosen.current.command_id, chosen.target.command_id)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([("d1", "v1", "succeeded", ""), ("d2", "v2", "succeeded", "")], ("d2", "d1")),
        ([("d1", "v1", "succeeded", ""), ("d2", "v2", "succeeded", ""), ("d3", "v3", "failed", "")], ("d2", "d1")),
        ([("d1", "v1", "succeeded", ""), ("d2", "v2", "cancelled", ""), ("d3", "v3", "succeeded", "")], ("d3", "d1")),
        # rolled back from v2 to v1: a second rollback goes further back, never to the undone v2 nor to v1 again
        (
            [
                ("d0", "v0", "succeeded", ""),
                ("d1", "v1", "succeeded", ""),
                ("d2", "v2", "succeeded", ""),
                ("r1", "v1", "succeeded", "d2"),
            ],
            ("r1", "d0"),
        ),  # fmt: skip
        ([("d1", "v1", "succeeded", "")], None),  # nothing before the current one
        ([("d1", "v1", "failed", ""), ("d2", "v2", "failed", "")], None),  # nothing succeeded at all
        ([("d1", "v1", "succeeded", ""), ("d2", "v1", "succeeded", "")], None),  # the same branch runs now
    ],
)
def test_the_rollback_goes_to_the_newest_good_deploy_before_the_current_one(
    history: list[tuple[str, str, str, str]], expected: tuple[str, str] | None
) -> None:
    assert _choice(_history(*history)) == expected


@pytest.fixture
def ops() -> Iterator[Ingress]:
    ledger = _history(("dep0000001", "release/2.3", "succeeded", ""), ("dep0000002", "release/2.4", "succeeded", ""))
    publisher = RecordingPublisher()
    config = {"access": [{"command": "deploy"}], "deploy": {"clients": ["acme"]}}
    deps = ingress_deps(config=StaticConfig.from_text(json.dumps(config)), publisher=publisher, ledger=ledger,
                        new_id=lambda: "f00d00000001", now=lambda: NOW)  # fmt: skip
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def test_a_rollback_is_the_previous_deploy_again_and_says_what_it_goes_back_to(ops: Ingress) -> None:
    _, payload = ops.send("rollback --client acme --env production", user_id="U0ABC")
    shown = message_text(payload)
    assert "Rollback: back to `release/2.3` (<@U0ABC>'s deploy `dep0000001`, Build #42" in shown
    assert "from `release/2.4` (deploy `dep0000002`)" in shown and "accepted as `f00d00000001`" in shown
    [event] = [e for e in ops.publisher.events if isinstance(e, CommandRequested)]
    assert event.command == "deploy" and event.arguments == {"client": "acme", "branch": "release/2.3",
                                                              "env": "production"}  # fmt: skip
    assert (
        event.rollback_of == "dep0000002" and event.text == "deploy --client acme --branch release/2.3 --env production"
    )


def test_the_deploy_rules_decide_a_rollback_its_branch_included(ops: Ingress) -> None:
    ops.deps.config = StaticConfig.from_text(
        json.dumps([{"command": "deploy", "arguments": {"branch": ["release/2.4"]}}])
    )
    _, payload = ops.send("rollback --client acme --env production", user_id="U0ABC")
    assert "`--branch release/2.4`" in message_text(payload) and "only" in message_text(payload)
    assert not [e for e in ops.publisher.events if isinstance(e, CommandRequested)]


def test_nothing_to_go_back_to_is_refused_clearly(ops: Ingress) -> None:
    _, payload = ops.send("rollback --client acme --env staging", user_id="U0ABC")
    text = message_text(payload)
    assert "Nothing to roll back to" in text and "`acme` `staging` has no earlier successful deploy" in text
    assert not [e for e in ops.publisher.events if isinstance(e, CommandRequested)]


def test_someone_who_may_not_see_deploys_learns_nothing_from_the_ledger(ops: Ingress) -> None:
    ops.deps.config = StaticConfig.from_text(json.dumps([{"command": "deploy", "users": ["U0ABC"]}]))
    _, payload = ops.send("rollback --client acme --env production", user_id="U0EVE")
    text = message_text(payload)
    assert "release/2.3" not in text and "Nothing to roll back to" in text


def test_the_rollback_button_rolls_back_the_deploys_target_for_the_clicker(ops: Ingress) -> None:
    """Issue 22.1: the channel message of a finished deploy carries **Rollback** (a new command id, the clicker's)."""
    payload = click_payload(ROLLBACK, "dep0000002", user_id="U0BOB", user_name="bob")
    payload["container"].update(is_ephemeral=False, message_ts="1764331200.000001")
    body = click_body(payload)
    ops.click(body, signed_headers(body))
    [event] = [e for e in ops.publisher.events if isinstance(e, CommandRequested)]
    assert (event.command, event.arguments["branch"], event.actor.user_id) == ("deploy", "release/2.3", "U0BOB")
    assert event.rollback_of == "dep0000002"


def test_a_deploy_that_succeeded_carries_the_rollback_button_and_a_failed_one_retry() -> None:
    entry = InMemoryLedger().record(command_requested("d9"), now=NOW).entry
    done = parent_message(succeeded("d9").model_copy(update={"activity": "deploying `main`"}), entry, NOW)
    broke = parent_message(failed("d9").model_copy(update={"activity": "deploying `main`"}), entry, NOW)
    assert [b["action_id"] for b in done.blocks[-1]["elements"]] == [ROLLBACK]
    assert [b["action_id"] for b in broke.blocks[-1]["elements"]] == ["command.retry"]


def test_a_rollback_held_for_approval_still_undoes_the_same_deploy_once_approved(ops: Ingress) -> None:
    """The approval keeps `rollback_of`: the approved run is recorded as the rollback it is (issue 22.1)."""
    rule = {"command": "deploy", "approval": {"users": ["U0BOB"]}}
    ops.deps.config = StaticConfig.from_text(json.dumps({"access": [rule], "deploy": {"clients": ["acme"]}}))
    _, asked = ops.send("rollback --client acme --env production", user_id="U0ABC")
    assert "needs approval" in message_text(asked)  # the bot posts the approval message (services/notifier)
    assert not [e for e in ops.publisher.events if isinstance(e, CommandRequested)]
    body = click_body(click_payload("approval.approve", "f00d00000001", user_id="U0BOB", user_name="bob"))
    ops.click(body, signed_headers(body))
    [event] = [e for e in ops.publisher.events if isinstance(e, CommandRequested)]
    assert (event.command_id, event.arguments["branch"], event.rollback_of) == ("f00d00000001", "release/2.3",
                                                                                "dep0000002")  # fmt: skip


def test_the_status_of_a_rollback_names_the_deploy_it_undoes(ops: Ingress) -> None:
    arguments = {"client": "acme", "branch": "release/2.3", "env": "production"}
    ops.deps.ledger.record(command_requested("r0000001", arguments=arguments, rollback_of="dep0000002"), now=NOW)
    _, shown = ops.send("status r0000001", user_id="U0ABC")
    assert ":rewind: A rollback: it undoes deploy `dep0000002`." in message_text(shown)
    _, plain = ops.send("status dep0000002", user_id="U0ABC")
    assert "rollback" not in message_text(plain).lower()
