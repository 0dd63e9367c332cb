"""`slashops send` shows buttons and `slashops click` presses them, against the real ingress app served over HTTP
(`tools.local.ingress`) with fake ports and the real `WebhookResponder` posting to the CLI's response_url."""

from __future__ import annotations

import argparse
import io
import re
import shlex
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from app import create_app
from chalicelib.approving import APPROVE
from chalicelib.deps import IngressDeps
from chalicelib.responding import WebhookResponder
from shared.events.models import ApprovalRequested, CommandRequested
from tests.support.events import at, command_requested, succeeded
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.slack import SIGNING_SECRET
from tools.cli import send
from tools.cli.send import run, run_click
from tools.local.ingress import build_server


@dataclass
class Served:
    base: str
    publisher: RecordingPublisher
    deps: IngressDeps
    ledger: InMemoryLedger


@pytest.fixture
def served() -> Iterator[Served]:
    publisher, ledger = RecordingPublisher(), InMemoryLedger()
    deps = ingress_deps(publisher=publisher, responder=WebhookResponder(), ledger=ledger)
    server = build_server(create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server.server_address[1]
    yield Served(base=f"http://127.0.0.1:{port}", publisher=publisher, deps=deps, ledger=ledger)
    server.server.shutdown()
    server.server.server_close()


def _send(served: Served, text: str) -> str:
    out = io.StringIO()
    args = argparse.Namespace(
        text=text,
        user="U0ABC",
        channel="C0123",
        team="T0001",
        url=f"{served.base}/slack/commands",
        secret=SIGNING_SECRET,
        timeout=0.5,
    )
    assert run(args, out=out) == 0
    return out.getvalue()


def _click(
    served: Served,
    action_id: str,
    value: str,
    *,
    user: str = "U0ABC",
    secret: str = SIGNING_SECRET,
    message_ts: str = "",
) -> tuple[int, str]:
    out = io.StringIO()
    args = argparse.Namespace(
        action_id=action_id,
        value=value,
        user=user,
        channel="C0123",
        message_ts=message_ts,
        url=f"{served.base}/slack/interactions",
        secret=secret,
        timeout=0.5,
    )
    return run_click(args, out=out), out.getvalue()


def test_send_prints_the_button_and_click_presses_it(served: Served) -> None:
    printed = _send(served, "restore --db orders --from b1")
    found = re.search(r"\[Confirm restore\] → bin/slashops click (\S+) --value (.+)", printed)
    assert found, printed
    action_id, value = found.group(1), shlex.split(found.group(2))[0]

    code, clicked = _click(served, action_id, value)

    assert "answer to the click (HTTP 200)" in clicked and "accepted as" in clicked
    assert code == 2  # accepted; no backup worker here, so no final result within the timeout
    [event] = [e for e in served.publisher.events if isinstance(e, CommandRequested)]
    assert event.arguments["confirm"] == "orders" and event.actor.user_id == "U0ABC"


def test_a_click_signed_with_another_secret_is_refused(served: Served) -> None:
    code, clicked = _click(served, "restore.confirm", '{"db":"orders","from":"b1"}', secret="wrong")
    assert code == 1 and "HTTP 401" in clicked and served.publisher.events == []


def test_a_clicker_the_rules_refuse_is_told_so(served: Served) -> None:
    code, clicked = _click(served, "restore.confirm", '{"db":"orders","from":"b1"}', user="U9NOPE")
    assert code == 0 and "not allowed" in clicked.lower()
    assert not [e for e in served.publisher.events if isinstance(e, CommandRequested)]


def test_a_held_command_keeps_send_waiting_while_an_approver_clicks(served: Served) -> None:
    """`send` prints the requester's answer and keeps following the held command's status; `click approval.approve
    --as` an approver runs the command under the held id, whose end (here recorded as the notifier would) `send`
    then prints."""
    assert send.APPROVE == APPROVE
    served.deps.config = StaticConfig.from_text(
        '[{"command": "deploy"}, {"command": "deploy", "arguments": {"env": ["production"]},'
        ' "approval": {"users": ["U0APPROVER"]}}]'
    )
    out = io.StringIO()
    args = argparse.Namespace(
        text="deploy --client acme --branch main --env production",
        user="U0ABC",
        channel="C0123",
        team="T0001",
        url=f"{served.base}/slack/commands",
        secret=SIGNING_SECRET,
        timeout=10.0,
    )
    codes: list[int] = []
    sending = threading.Thread(target=lambda: codes.append(run(args, out=out)))
    sending.start()
    [held] = _wait_for(served, ApprovalRequested)

    code, clicked = _click(served, "approval.approve", held.command_id, user="U0APPROVER")

    assert code == 0 and "Approved by @U0APPROVER" in clicked
    [event] = [e for e in served.publisher.events if isinstance(e, CommandRequested)]
    assert event.command_id == held.command_id and event.actor.user_id == "U0ABC"
    served.ledger.record(event, now=datetime.now(UTC))
    served.ledger.record(succeeded(held.command_id, reply=event.reply_to), now=datetime.now(UTC))
    sending.join(timeout=15)
    printed = out.getvalue()
    assert codes == [0]
    assert "Your `/ops deploy --client acme --branch main --env production` needs approval" in printed
    assert f"Held as `{held.command_id}`" in printed  # the bot posts the approval message (make run prints it)
    assert "held for approval" in printed and "── status: succeeded ──" in printed


def test_the_held_id_is_read_from_the_requesters_answer_or_from_the_approval_message_itself() -> None:
    note = {"blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "Held as `3f9c0a1b2c3d` (…)"}]}]}
    assert send.held_for_approval(note) == "3f9c0a1b2c3d"
    fallback = {"blocks": [{"type": "actions", "elements": [{"action_id": APPROVE, "value": "0badc0ffee00"}]}]}
    assert send.held_for_approval(fallback) == "0badc0ffee00"
    assert send.held_for_approval({"text": "deploy accepted as 3f9c0a1b2c3d"}) is None


def _wait_for[T](served: Served, kind: type[T], seconds: float = 5.0) -> list[T]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [event for event in served.publisher.events if isinstance(event, kind)]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_click_presses_cancel_on_a_channel_message_as_the_clicker(served: Served) -> None:
    """`make run` prints a channel message's buttons as `click command.cancel --value <id> --message-ts <ts>`; the
    clicker may see the command (their own: a button naming one they may not see is answered as `status` would)."""
    served.ledger.record(command_requested("abc123def456", user="U0BOB", user_name="bob"), now=at(0))
    code, clicked = _click(served, "command.cancel", "abc123def456", user="U0BOB", message_ts="1764331200.000001")

    assert "answer to the click (HTTP 200)" in clicked and "accepted as" in clicked
    [event] = [e for e in served.publisher.events if isinstance(e, CommandRequested)]
    assert event.command == "cancel" and event.arguments == {"id": "abc123def456"}
    assert event.actor.user_id == "U0BOB" and event.reply_to.keep_original
    assert code == 2  # no deploy service here: the cancel's result never comes
