"""Refused commands reach the audit ledger: the ingress publishes `CommandRefused`, the notifier records it,
`history --refused` and `status <id>` show it to those the rules let see it."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence

import pytest

from chalicelib.handler import handle_slash_http
from chalicelib.models import VerifiedRequest
from chalicelib.refusals import record_refusal, refusal_id
from chalicelib.slack_request import SlashCommandRequest
from services.notifier.consumer import handle_body
from services.notifier.deps import NotifierDeps
from shared.deadline import Deadline, run_within
from shared.errors import AccessDeniedError, ConfigurationError
from shared.events.models import CommandRefused, Event
from shared.replay import SignedRequest
from tests.support.events import eventbridge_body
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack
from tests.support.incidents import incident_shown
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, signed_request, slash_form

OUTSIDER = {"user_id": "U9OTHER", "user_name": "someone"}


def _refusals(ingress: Ingress) -> list[CommandRefused]:
    return [event for event in ingress.publisher.events if isinstance(event, CommandRefused)]


def _to_ledger(ingress: Ingress, ledger: InMemoryLedger) -> RecordingSlack:
    """What the bus and the notifier do with what the ingress published (`CommandRefused` and `CommandRequested`)."""
    slack = RecordingSlack()
    for event in ingress.publisher.events:
        handle_body(eventbridge_body(event), NotifierDeps(ledger=ledger, slack=slack, now=ingress.deps.now))
    return slack


def test_a_denied_command_publishes_who_where_what_and_why_never_a_url_or_token(ingress: Ingress) -> None:
    _, payload = ingress.send("deploy --client acme --branch main --env production", **OUTSIDER)

    assert "Not allowed" in message_text(payload)
    assert not ingress.publisher.requested
    [refusal] = _refusals(ingress)
    assert (refusal.command, refusal.decision, refusal.rule) == ("deploy", "not allowed", None)
    assert (refusal.actor.user_id, refusal.actor.user_name, refusal.actor.team_id) == ("U9OTHER", "someone", "T0001")
    assert (refusal.place.channel_id, refusal.place.channel_name) == ("C0123", "ops")
    assert refusal.text == "deploy --client acme --branch main --env production"
    assert refusal.reason == "You are not allowed to run `deploy`."
    published = refusal.model_dump_json()
    for secret in ("response_url", "hooks.slack.com", "token", "trigger_id", "13345224609"):
        assert secret not in published


@pytest.mark.parametrize(
    ("typed", "command", "decision"),
    [
        ("deplyo --client acme", "deplyo", "unknown command"),
        ('deploy --client "acme --branch main', "deploy", "invalid arguments"),  # unreadable: unbalanced quote
        ("deploy --clinet acme --branch main", "deploy", "invalid arguments"),
        ("status not-an-id!", "status", "invalid arguments"),  # open to all, still recorded
        ("x" * 300 + " --now", "x" * 39 + "…", "unknown command"),  # bounded: what was typed, not all of it
    ],
)
def test_unknown_commands_and_malformed_text_are_refusals_too(
    ingress: Ingress, typed: str, command: str, decision: str
) -> None:
    ingress.send(typed)
    [refusal] = _refusals(ingress)
    assert (refusal.command, refusal.decision) == (command, decision)
    assert refusal.text == typed or len(refusal.text) == 500


def test_a_refusal_for_a_broken_configuration_records_only_the_incident(
    ingress: Ingress, caplog: pytest.LogCaptureFixture
) -> None:
    ingress.deps.config = StaticConfig(ConfigurationError("/etc/slashops/config.yaml: access rule #3: unknown key"))
    _, payload = ingress.send("deploy --client acme --branch main")
    [refusal] = _refusals(ingress)
    assert refusal.decision == "misconfigured"
    assert incident_shown(refusal.reason, "config.yaml", "rule #3") == incident_shown(message_text(payload))


def test_what_is_not_a_refusal_is_not_recorded_as_one(ingress: Ingress) -> None:
    ingress.deps.ledger = InMemoryLedger()
    ingress.send("status 000000000000")  # a lookup that finds nothing
    ingress.send("help")
    ingress.publisher.fail = True
    ingress.send("deploy --client acme --branch main")  # not queued: a failure, not a refusal
    assert _refusals(ingress) == []


def test_a_bus_that_refuses_the_refusal_changes_nothing_for_the_user(
    ingress: Ingress, caplog: pytest.LogCaptureFixture
) -> None:
    ingress.publisher.fail = True
    _, payload = ingress.send("deploy --client acme --branch main", **OUTSIDER)

    text = message_text(payload)
    assert "Not allowed" in text and "not allowed to run `deploy`" in text and "not queued" not in text
    [warning] = [r for r in caplog.records if r.message.startswith("refusal not recorded")]
    assert warning.levelno == logging.WARNING
    fields = warning.__dict__
    assert (fields["command"], fields["user_id"], fields["decision"]) == ("deploy", "U9OTHER", "not allowed")
    assert fields["reason"] == "You are not allowed to run `deploy`." and fields["channel_id"] == "C0123"


class HangingBus:
    """A bus that never answers: like `EventBridgePublisher`, it gives up at the deadline it is given."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.budgets: list[float] = []

    def publish(self, events: Sequence[Event], *, deadline: Deadline | None = None) -> None:
        assert deadline is not None
        self.budgets.append(deadline.remaining())
        run_within(deadline, lambda: self.release.wait(10))


def test_a_hanging_bus_does_not_delay_the_refusal_past_its_share_of_the_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = HangingBus()
    deps = ingress_deps(publisher=bus)
    body, headers = signed_request("deploy --client acme --branch main", **OUTSIDER)
    started = time.monotonic()
    try:
        answer = handle_slash_http(
            body, headers, signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps, deadline=Deadline.after(2.5)
        )
    finally:
        bus.release.set()
    assert time.monotonic() - started < 1.0 and bus.budgets and bus.budgets[0] <= 0.5
    assert "not allowed to run `deploy`" in message_text(json.loads(answer.body))
    assert any(r.message.startswith("refusal not recorded") for r in caplog.records)


def test_a_refusal_out_of_time_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    publisher = RecordingPublisher()
    body, headers = signed_request("deploy --client acme --branch main", **OUTSIDER)
    answer = handle_slash_http(
        body,
        headers,
        signing_secret=lambda: SIGNING_SECRET,
        deps=lambda: ingress_deps(publisher=publisher),
        deadline=Deadline.after(0.05),
    )
    assert "not allowed to run `deploy`" in message_text(json.loads(answer.body))
    assert publisher.events == []
    assert any("out of time" in r.message and r.levelno == logging.WARNING for r in caplog.records)


def test_a_replayed_refused_request_is_recorded_once(ingress: Ingress) -> None:
    body, headers = signed_request("deploy --client acme --branch main", **OUTSIDER)
    ingress.post(body, headers)
    ingress.post(body, headers)  # the same signed bytes again
    first, second = _refusals(ingress)
    assert first.command_id == second.command_id
    ledger = InMemoryLedger()
    _to_ledger(ingress, ledger)
    assert [entry.command_id for entry in ledger.iter_recent(refused=True)] == [first.command_id]


def test_history_refused_shows_refusals_to_those_the_rules_let_see_them(ingress: Ingress) -> None:
    ledger = InMemoryLedger()
    ingress.deps.ledger = ledger
    ingress.send("deploy --client acme --branch main --env production", **OUTSIDER)  # deploy: not allowed
    ingress.send("restore --db orders --from x", user_id="U0XYZ", user_name="xyz")  # restore: not allowed
    ingress.send("deploy --clinet acme", user_id="U0ABC")  # the caller's own typo
    slack = _to_ledger(ingress, ledger)
    assert slack.responses == [] and slack.posts == []  # recorded, never posted: the ingress answered already
    ingress.publisher.events.clear()

    _, mine = ingress.send("history --refused --limit 20", user_id="U0ABC")  # may run deploy and restore
    seen = message_text(mine)
    assert "`deploy --clinet acme` · invalid arguments · <@U0ABC>" in seen
    assert "`deploy --client acme --branch main --env production` · not allowed · <@U9OTHER>" in seen
    assert "`restore --db orders --from x` · not allowed · <@U0XYZ>" in seen
    assert "Latest 3 refused" in seen

    _, outsider = ingress.send("history --refused", **OUTSIDER)  # may run nothing: sees only their own
    seen = message_text(outsider)
    assert "<@U9OTHER>" in seen and "<@U0ABC>" not in seen and "<@U0XYZ>" not in seen

    _, plain = ingress.send("history", user_id="U0ABC")  # refusals are kept apart from the commands that ran
    assert "No commands you can see yet." in message_text(plain)


def test_status_of_a_refused_command_shows_the_decision_and_the_reason(ingress: Ingress) -> None:
    ledger = InMemoryLedger()
    ingress.deps.ledger = ledger
    ingress.send("deploy --client acme --branch main --env production", **OUTSIDER)
    [refusal] = _refusals(ingress)
    _to_ledger(ingress, ledger)

    _, own = ingress.send(f"status {refusal.command_id}", **OUTSIDER)
    text = message_text(own)
    assert f"`deploy` `{refusal.command_id}` — *refused*" in text
    assert "Typed: `deploy --client acme --branch main --env production`" in text
    assert "*Refused (not allowed):* You are not allowed to run `deploy`." in text
    assert "Run by <@U9OTHER>" in text and "not yet reported" not in text

    _, stranger = ingress.send(f"status {refusal.command_id}", user_id="U0NOBODY", user_name="nobody")
    assert "There is no command" in message_text(stranger)


def test_the_rule_that_decided_travels_with_the_refusal() -> None:
    publisher = RecordingPublisher()
    request = SlashCommandRequest.model_validate(slash_form("deploy --client acme --branch main"))
    verified = VerifiedRequest(request=request, signed=SignedRequest(1, "v0=ab"), deadline=Deadline.after(2.5))
    denied = AccessDeniedError("`deploy` is denied to you by rule #3.", rule=3)

    record_refusal(verified, request.text, denied, denied.message, ingress_deps(publisher=publisher))

    [refusal] = publisher.events
    assert isinstance(refusal, CommandRefused) and refusal.rule == 3 and refusal.decision == "not allowed"
    assert refusal.command_id == refusal_id(SignedRequest(1, "v0=ab")) != refusal_id(SignedRequest(2, "v0=ab"))
