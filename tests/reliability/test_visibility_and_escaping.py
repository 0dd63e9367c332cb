"""Hostile clicks and hostile text against the real ingress, in process (issue 19, findings 4 and 5).

Visibility: every button that names a command (Cancel, Retry, Approve, Deny), clicked by someone who may not see
that command, with the id of someone else's command in every state or of none at all, must answer exactly what
`status <id>` answers that user — no state, no text — and run, decide or publish nothing.

Escaping: hostile markup typed into every place a message shows it (a restore's backup id, a lock's reason, an
unknown command, a refused command read back with `status`, a Slack user or channel name) must never reach the
fallback `text` or any block raw: no broadcast, mention, channel or link can come out of what a user typed.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from chalicelib.approving import APPROVE, DENY
from shared.events.models import ApprovalDecided, ApprovalRequested, CommandRefused, CommandRequested
from shared.slack.actions import CANCEL, RETRY
from shared.slack.mrkdwn import escape
from tests.reliability.tally import Tally
from tests.support.events import at, cancelled, command_requested, failed, succeeded
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.ingress import Ingress
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers

RULES = json.dumps(
    [
        {"command": "deploy", "users": ["U0ALICE"], "channels": ["C0123"]},
        {
            "command": "deploy",
            "users": ["U0ALICE"],
            "arguments": {"env": ["production"]},
            "approval": {"users": ["U0BOB"]},
        },
        {"command": "restore", "users": ["U0ALICE"]},
        {"command": "lock"},
        {"command": "locks"},
    ]
)
EVE = "U0EVE"
"""No rule admits her to anything but `lock`/`locks` and the open commands: she may see only her own commands."""
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0SRE>",
    "<@U0ADMIN>",
    "<@U0ADMIN|admin>",
    "<#C0SECRET>",
    "<https://evil.example|click me>",
    "<https://evil.example>",
    "<mailto:a@evil.example|mail>",
    "<!channel><@U0ADMIN>",
    "<https://evil.example|click me> <!channel>",
    "&lt;!channel&gt;",
    "a & b <b>",
    "*bold* _it_ ~s~ `tick`",
    "<!date^1392734382^{date}|x>",
]
"""What a user might type: every form of Slack markup, already-escaped entities, and plain mrkdwn."""
MARKUP = (
    "<!channel",
    "<!here",
    "<!everyone",
    "<!subteam",
    "<!date",
    "<@U0ADMIN",
    "<#C0SECRET",
    "<http",
    "<mailto",
    "<b>",
)
"""Any of these in a message came from what was typed (slashops' own mentions name real callers, never these)."""


@dataclass
class Harness:
    ingress: Ingress
    ledger: InMemoryLedger
    tried: int = 0
    mishandled: list[str] = field(default_factory=list)
    _ticks: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, text: str, user_id: str = EVE, **form: str) -> dict[str, Any]:
        status, answer = self.ingress.send(text, user_id=user_id, trigger_id=f"t.{next(self._ticks)}", **form)
        assert status == 200
        return answer

    def click(self, action: str, value: str, *, user_id: str = EVE, channel_id: str = "C0123") -> dict[str, Any]:
        payload = click_payload(action, value, user_id=user_id, user_name=user_id.lower(), channel_id=channel_id)
        payload["container"].update(is_ephemeral=False, message_ts=f"1764400000.{next(self._ticks):06d}")
        body = click_body(payload)
        status, answer = self.ingress.click(body, signed_headers(body))
        assert status == 200
        return answer

    def sync(self) -> None:
        """The ledger records what the ingress published, as the notifier does."""
        for event in self.ingress.publisher.events:
            if isinstance(event, CommandRequested | CommandRefused | ApprovalRequested | ApprovalDecided):
                self.ledger.record(event, now=at(0))

    def check(self, what: str, ok: bool) -> None:
        self.tried += 1
        if not ok:
            self.mishandled.append(what)


@pytest.fixture
def harness(tally: Tally) -> Iterator[Harness]:
    ledger = InMemoryLedger()
    publisher = RecordingPublisher()
    counter = itertools.count(1)
    deps = ingress_deps(
        config=StaticConfig.from_text(RULES),
        publisher=publisher,
        ledger=ledger,
        new_id=lambda: f"new{next(counter):09d}",
        now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        harness = Harness(Ingress(client=client, publisher=publisher, deps=deps), ledger)
        yield harness
    tally.inputs(harness.tried, len(harness.mishandled))


def _alices_commands(harness: Harness) -> dict[str, str]:
    """Alice's commands in every state a button can name, by id → the text that must not leak."""
    secret = "deploy --client acme --branch secret-branch --env staging"
    states = {
        "f00000000001": failed("f00000000001"),
        "500000000001": succeeded("500000000001"),
        "c00000000001": cancelled("c00000000001"),
        "r00000000001": None,  # running: requested only
    }
    for command_id, result in states.items():
        harness.ledger.record(command_requested(command_id, user="U0ALICE", text=secret), now=at(0))
        if result is not None:
            harness.ledger.record(result, now=at(5))
    harness.send("deploy --client acme --branch secret-branch --env production", user_id="U0ALICE")
    approval_id = [e for e in harness.ingress.publisher.events if isinstance(e, ApprovalRequested)][-1].command_id
    harness.sync()
    return {**dict.fromkeys(states, secret), approval_id: "secret-branch", "000000000404": secret}


def _published(harness: Harness) -> int:
    return sum(isinstance(e, CommandRequested | ApprovalDecided) for e in harness.ingress.publisher.events)


def test_no_click_tells_anyone_about_a_command_they_may_not_see(harness: Harness) -> None:
    commands = _alices_commands(harness)
    before = _published(harness)
    for (command_id, secret), action, channel in itertools.product(
        commands.items(), (CANCEL, RETRY, APPROVE, DENY), ("C0123", "C0OTHER", "D0EVE")
    ):
        if action in (APPROVE, DENY) and channel == "C0123":
            continue  # the approval request is posted there: the channel already reads it (approval_clicks)
        answer = harness.click(action, command_id, channel_id=channel)
        status = harness.send(f"status {command_id}")
        shown = json.dumps(answer)
        same = (answer.get("text"), answer.get("blocks")) == (status.get("text"), status.get("blocks"))
        what = f"{action} {command_id} in {channel}"
        harness.check(what, same and secret not in shown and "that you can see" in shown)
        harness.check(f"{what}: nothing ran", _published(harness) == before)
    assert harness.mishandled == []


def _leaks(answer: dict[str, Any]) -> list[str]:
    """Raw markup from what was typed, anywhere Slack renders text: the fallback `text`, any block's text."""
    shown = [answer.get("text", "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    shown.append(value)
                elif key not in ("value", "action_id", "block_id"):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(answer.get("blocks", []))
    return [f"{markup} in {text!r}" for text in shown for markup in MARKUP if markup in text]


def _typed(value: str) -> str:
    """What Slack sends when `value` is typed: `&`, `<`, `>` as entities, in double quotes for the tokenizer."""
    return '"' + escape(value).replace('"', "'") + '"'


def test_no_typed_markup_reaches_a_messages_text_or_blocks(harness: Harness) -> None:
    for value in HOSTILE:
        typed = _typed(value)
        answers = {
            "restore prompt": harness.send(f"restore --db orders --from {typed}", user_id="U0ALICE"),
            "lock reason": harness.send(f"lock --client acme --env staging --reason {typed} --for 1m"),
            "locks": harness.send("locks"),
            "unknown command": harness.send(typed),
            "help": harness.send(f"help {typed}"),
            "whoami names": harness.send("whoami", user_name=value, channel_name=value),
            "approval names": harness.send(
                "deploy --client acme --branch main --env production", user_id="U0ALICE", user_name=value
            ),
        }
        harness.sync()
        for refusal in [e for e in harness.ingress.publisher.events if isinstance(e, CommandRefused)][-2:]:
            answers[f"status of refused {refusal.command!r}"] = harness.send(f"status {refusal.command_id}")
        for where, answer in answers.items():
            leaks = _leaks(answer)
            harness.check(f"{value!r} via {where}: {leaks}", not leaks)
    assert harness.mishandled == []
