"""`slashops send` shows buttons and `slashops click` presses them, against the real ingress app served over HTTP
(`tools.local_ingress`) with fake ports and the real `WebhookResponder` posting to the CLI's response_url."""

from __future__ import annotations

import argparse
import io
import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app import create_app
from chalicelib.responding import WebhookResponder
from shared.events.models import CommandRequested
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.ingress import ingress_deps
from tests.support.slack import SIGNING_SECRET
from tools.local_ingress import build_server
from tools.send import run, run_click


@dataclass
class Served:
    base: str
    publisher: RecordingPublisher


@pytest.fixture
def served() -> Iterator[Served]:
    publisher = RecordingPublisher()
    deps = ingress_deps(publisher=publisher, responder=WebhookResponder())
    server = build_server(create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server.server_address[1]
    yield Served(base=f"http://127.0.0.1:{port}", publisher=publisher)
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


def test_click_presses_cancel_on_a_channel_message_as_the_clicker(served: Served) -> None:
    """`make run` prints a channel message's buttons as `click command.cancel --value <id> --message-ts <ts>`."""
    code, clicked = _click(served, "command.cancel", "abc123def456", user="U0BOB", message_ts="1764331200.000001")

    assert "answer to the click (HTTP 200)" in clicked and "accepted as" in clicked
    [event] = [e for e in served.publisher.events if isinstance(e, CommandRequested)]
    assert event.command == "cancel" and event.arguments == {"id": "abc123def456"}
    assert event.actor.user_id == "U0BOB" and event.reply_to.keep_original
    assert code == 2  # no deploy service here: the cancel's result never comes
