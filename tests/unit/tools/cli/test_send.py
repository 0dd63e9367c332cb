"""`slashops send`: signs like Slack, recognises queued commands, prints follow-ups until the final one."""

from __future__ import annotations

import argparse
import io
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from chalicelib.slack_request import parse_form, to_slash_command
from chalicelib.verification import is_signed_by_slack
from services.notifier.messages import format_event
from shared.commands.catalog import CATALOG
from shared.events.models import CommandAccepted, CommandFailed, CommandProgress, CommandSucceeded, ReplyTarget
from shared.slack.blocks import section
from shared.slack.messages import acknowledgement, help_overview
from tools.cli.send import (
    ResponseUrlServer,
    SlashCommand,
    accepted_command_id,
    follow,
    ingress_port,
    is_final,
    parser,
    render,
    run,
    shown,
    signed_headers,
    slack_form,
)
from tools.local.defaults import local_name

SECRET = "unit-test-secret"
REPLY = ReplyTarget(response_url="http://127.0.0.1:9/x", channel_id="C1", user_id="U1")


def test_the_request_passes_the_ingress_verification_and_parses_as_a_slash_command() -> None:
    form = slack_form(SlashCommand("deploy --client acme", user_id="U123", channel_id="C123"), "http://127.0.0.1:1/r")
    body = "&".join(f"{key}={value}" for key, value in form.items()).encode()
    assert is_signed_by_slack(body, signed_headers(body, SECRET), SECRET)
    assert not is_signed_by_slack(body, signed_headers(body, "another secret"), SECRET)
    request = to_slash_command(parse_form(body))
    assert (request.user_id, request.channel_id, request.text) == ("U123", "C123", "deploy --client acme")


def test_a_queued_command_is_recognised_by_the_ingress_acknowledgement() -> None:
    ack = acknowledgement(CATALOG.get("deploy"), {"client": "acme"}, "cmd-42").payload()
    assert accepted_command_id(ack) == "cmd-42"
    assert accepted_command_id(help_overview(CATALOG).payload()) is None


@pytest.mark.parametrize(
    ("event", "final"),
    [
        (CommandAccepted(command_id="c1", command="deploy", reply_to=REPLY, source="slashops.deploy"), False),
        (CommandProgress(command_id="c1", command="deploy", reply_to=REPLY, source="s", message="50%"), False),
        (CommandSucceeded(command_id="c1", command="deploy", reply_to=REPLY, source="s", summary="ok"), True),
        (CommandFailed(command_id="c1", command="deploy", reply_to=REPLY, source="s", reason="no"), True),
    ],
)
def test_the_notifiers_final_messages_are_told_apart_from_its_interim_ones(event: Any, final: bool) -> None:
    assert is_final(format_event(event).payload()) is final


def test_render_shows_blocks_then_falls_back_to_text() -> None:
    payload = {"text": "t", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]}
    assert render(payload) == "hello"
    assert render({"text": "only text"}) == "only text"


class FakeIngress(BaseHTTPRequestHandler):
    """Verifies like the ingress, acknowledges, then posts an interim and a final follow-up."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not is_signed_by_slack(body, dict(self.headers), SECRET):
            self.send_response(401)
            self.end_headers()
            return
        form = dict(parse_qsl(body.decode()))
        if form["text"].startswith("status "):  # an announced deploy, followed with `/ops status`
            asked.append(form["text"])
            state = "running" if len(asked) < 3 else "succeeded"
            payload = {"text": f"deploy cmd-8: {state}", "blocks": [section(f"`deploy` `cmd-8` — *{state}*")]}
        elif form["text"] == "deploy":
            payload = acknowledgement(CATALOG.get("deploy"), {}, "cmd-8").payload()
        else:
            payload = acknowledgement(CATALOG.get("backup"), {}, "cmd-7").payload()
            threading.Thread(target=_follow_ups, args=(form["response_url"],)).start()
        answer = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


asked: list[str] = []


def _follow_ups(response_url: str) -> None:
    for event in (
        CommandAccepted(command_id="cmd-7", command="backup", reply_to=REPLY, source="s"),
        CommandSucceeded(command_id="cmd-7", command="backup", reply_to=REPLY, source="s", summary="backed up"),
    ):
        data = json.dumps(format_event(event).payload()).encode()
        urllib.request.urlopen(urllib.request.Request(response_url, data=data, method="POST"), timeout=5).close()


@pytest.fixture
def ingress_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeIngress)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/commands"
    server.shutdown()
    server.server_close()


def _args(url: str, secret: str = SECRET, timeout: float = 5.0, text: str = "backup") -> argparse.Namespace:
    return argparse.Namespace(text=text, user="U1", channel="C1", team="T1", url=url, secret=secret, timeout=timeout)


def test_run_prints_the_answer_and_every_follow_up_until_the_final_one(ingress_url: str) -> None:
    out = io.StringIO()
    assert run(_args(ingress_url), out=out) == 0
    printed = out.getvalue()
    assert "immediate answer (HTTP 200)" in printed and "accepted as `cmd-7`" in printed
    assert "follow-up 1" in printed and "started" in printed
    assert "follow-up 2" in printed and "backed up" in printed


def test_an_announced_command_is_followed_with_status_until_it_has_finished(ingress_url: str) -> None:
    asked.clear()
    out = io.StringIO()
    assert run(_args(ingress_url, text="deploy"), out=out) == 0
    printed = out.getvalue()
    assert "announced in channel C1" in printed
    assert "── status: running ──" in printed and "── status: succeeded ──" in printed
    assert printed.count("── status: running ──") == 1 and asked == ["status cmd-8"] * 3


def test_a_wrong_secret_is_refused_and_reported(ingress_url: str) -> None:
    out = io.StringIO()
    assert run(_args(ingress_url, secret="wrong"), out=out) == 1
    assert "HTTP 401" in out.getvalue()


def test_follow_gives_up_after_the_timeout() -> None:
    with ResponseUrlServer() as server:
        assert follow(server, timeout=0.2, out=io.StringIO()) is False


def test_the_ingress_port_comes_from_the_environment_else_from_the_running_make_run(tmp_path: Path) -> None:
    """Issue 21.5: `make run` on 8411 was not found unless INGRESS_PORT was exported in every shell."""
    state = tmp_path / "make-run.json"
    assert ingress_port({}, state) == "8000"  # nothing running, nothing set: the default
    state.write_text(json.dumps({"ingress_port": 8411}))
    assert ingress_port({}, state) == "8411"
    assert ingress_port({"INGRESS_PORT": "9000"}, state) == "9000"
    state.write_text("{not json")
    assert ingress_port({}, state) == "8000"


def test_the_user_name_sent_is_make_runs_name_for_the_user_unless_given() -> None:
    """Issue 21.10: every `--user` was sent as `local.user`."""
    sent = parser().parse_args(["whoami", "--user", "U0DEV2"])
    assert local_name(sent.user) == "dev.two" and sent.user_name == ""
    assert parser().parse_args(["whoami", "--user-name", "carol"]).user_name == "carol"
    assert local_name("U0NOBODY") == ""


@pytest.mark.parametrize(
    ("mrkdwn", "expected"),
    [
        ("<@U0ALICE> asks to run `/ops deploy`", "@U0ALICE asks to run `/ops deploy`"),
        ("posted in <#C0OPS|ops>", "posted in #ops"),
        ("approvers: <!subteam^S0SRE>", "approvers: @S0SRE"),
        ("<https://jenkins.example/job/1/|Full log>", "Full log (https://jenkins.example/job/1/)"),
        ("<https://jenkins.example/>", "https://jenkins.example/"),
        ("branch `a&lt;b&gt;` &amp; more", "branch `a<b>` & more"),
        ("typed &lt;@U0EVE&gt; as text", "typed <@U0EVE> as text"),
    ],
)
def test_the_cli_prints_a_message_as_slack_shows_it_not_as_mrkdwn(mrkdwn: str, expected: str) -> None:
    assert shown({"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}]}) == expected
