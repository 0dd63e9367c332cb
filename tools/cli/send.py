"""`slashops send`: sign and post a slash command exactly as Slack does, then print every answer.

It serves the command's `response_url` itself (a small local HTTP server), so the immediate answer and
each follow-up the notifier posts are printed as they arrive, until the final result or `--timeout`. An announced
command (deploy, restore: its progress goes to a channel message and its thread, which `make run` prints from the fake
Slack) is followed by asking `/ops status <id>` once a second until it has finished.

    slashops send "deploy --client acme --branch main" --user U123 --channel C123

`slashops click` presses a button the same way: a signed `block_actions` payload to `/slack/interactions`.

    slashops click restore.confirm --value '{"db":"orders","from":"orders-20261128T101500Z-3f9c"}' --as U123

A command held for approval keeps `send` waiting (up to `--timeout`) while an approver clicks, in another terminal:

    slashops click approval.approve --value 3f9c0a1b2c3d --as U0APPROVER

Press Cancel or Retry on a channel message (`make run` prints them ready to copy):

    slashops click command.cancel --value 3f9c2a7d41b0 --channel C123 --message-ts 1764331200.000001 --as U456
"""

from __future__ import annotations

import argparse
import html
import json
import os
import queue
import re
import shlex
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from shared.settings import setting
from tools.cli.aws_target import LOCAL_STATE
from tools.cli.local_slack import local_trigger_id
from tools.local.defaults import DEFAULT_INGRESS_PORT, LOCAL_SIGNING_SECRET, local_channel_name, local_name

ACCEPTED = re.compile(r"accepted as `?([A-Za-z0-9_-]+)`?")
APPROVE = "approval.approve"
"""The **Approve** button's action id (`chalicelib.approving.APPROVE`): a command held for approval."""
ANNOUNCED = "announced in this channel"
HELD = re.compile(r"^\s*Held as `([A-Za-z0-9_-]+)`", re.MULTILINE)
"""The requester's answer to a command held for approval (`shared.slack.approvals.sent_for_approval`)."""
"""The ingress' acknowledgement of a command announced in the channel (`shared.slack.messages.acknowledgement`)."""
STATUS_STATE = re.compile(r": (\w+)$")
"""The state at the end of a `status` answer's text (`<command> <id>: <state>`)."""
FINISHED = frozenset({"succeeded", "failed", "cancelled", "rejected", "refused", "denied", "expired"})
INTERIM_FOOTER = "Updates replace this message"
"""The notifier's footer on accepted/progress messages; a follow-up without it is the final result."""


@dataclass(frozen=True)
class SlashCommand:
    text: str
    user_id: str = "U0LOCAL"
    channel_id: str = "C0LOCAL"
    team_id: str = "T0LOCAL"
    user_name: str = "local.user"
    channel_name: str = "local"
    command: str = "/ops"


def slack_form(command: SlashCommand, response_url: str, *, trigger_id: str = "") -> dict[str, str]:
    """The form fields Slack posts for a slash command (api.slack.com/interactivity/slash-commands); `trigger_id`:
    one the local Slack issued (`tools.fakes.slack`), so that a form the command opens opens there."""
    return {
        "token": "local-verification-token",
        "team_id": command.team_id,
        "team_domain": "local",
        "channel_id": command.channel_id,
        "channel_name": command.channel_name,
        "user_id": command.user_id,
        "user_name": command.user_name,
        "command": command.command,
        "text": command.text,
        "api_app_id": "A0LOCAL",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{int(time.time())}.local",
    }


def signed_headers(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature over `v0:{timestamp}:{body}` (what the ingress verifies)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(signature),
    }


class ResponseUrlServer:
    """A local `response_url`: every JSON post to it is queued for the CLI to print."""

    def __init__(self) -> None:
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.received))
        self._thread = threading.Thread(target=self._serve, name="response-url", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/commands/local/response"

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def __enter__(self) -> ResponseUrlServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.received.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None


def _handler_for(received: queue.Queue[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            return

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._answer(400, b"invalid_payload")
                return
            received.put(payload if isinstance(payload, dict) else {"text": str(payload)})
            self._answer(200, b"ok")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """POST like Slack; returns the status and the JSON answer (`{}` for an empty body)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        answer = json.loads(raw) if raw.strip() else {}
    except ValueError:
        answer = {"text": raw.decode(errors="replace")}
    return status, answer if isinstance(answer, dict) else {"text": str(answer)}


def shown(payload: Mapping[str, Any]) -> str:
    """A Slack message as a person reads it in Slack (`render`, then `plain_text`): what the CLI prints."""
    return plain_text(render(payload))


_SLACK_REFERENCE = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(mrkdwn: str) -> str:
    """mrkdwn as Slack's client shows it: `<@U0ALICE>` → @U0ALICE, `<#C0OPS|ops>` → #ops, `<!subteam^S0SRE>` →
    @S0SRE, `<https://x|Full log>` → Full log (https://x); `&lt;`, `&gt;`, `&amp;` unescaped last, so a `&lt;@U1&gt;`
    a user typed stays text, never a mention."""
    return html.unescape(_SLACK_REFERENCE.sub(_reference, mrkdwn))


def _reference(match: re.Match[str]) -> str:
    sigil, target, label = match.group(1), match.group(2), match.group(3)
    if sigil in ("@", "#"):
        return f"{sigil}{label or target}"
    if sigil == "!":
        return f"@{label or target.removeprefix('subteam^')}"
    return f"{label} ({target})" if label and label != target else target


def render(payload: Mapping[str, Any]) -> str:
    """A Slack message as a terminal shows it: its blocks' text, else its `text`."""
    lines = [line for block in payload.get("blocks") or [] for line in _block_lines(block)]
    return "\n".join(lines) if lines else str(payload.get("text", ""))


def _block_lines(block: Mapping[str, Any]) -> list[str]:
    if block.get("type") == "actions":
        return [_button_line(e) for e in block.get("elements", []) if isinstance(e, Mapping) and e.get("action_id")]
    if isinstance(block.get("text"), Mapping):
        return [str(block["text"].get("text", ""))]
    if block.get("type") == "context":
        return ["  " + " ".join(str(e.get("text", "")) for e in block.get("elements", []) if isinstance(e, Mapping))]
    return []


def _button_line(button: Mapping[str, Any]) -> str:
    """A button as a command to press it: its label, then `bin/slashops click <action_id> --value <value>`."""
    label = button.get("text", {}).get("text", "") if isinstance(button.get("text"), Mapping) else ""
    press = f"bin/slashops click {button['action_id']} --value {shlex.quote(str(button.get('value', '')))}"
    return f"  [{label}] → {press}"


def click_payload(
    action_id: str,
    value: str,
    response_url: str,
    *,
    user_id: str,
    channel_id: str,
    team_id: str = "T0LOCAL",
    message_ts: str = "",
) -> dict[str, Any]:
    """The `block_actions` payload Slack posts when a button is pressed: in an ephemeral message, or with
    `message_ts` in the bot's channel message (docs: reference/interaction-payloads/block_actions-payload)."""
    now = f"{time.time():.6f}"
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "local.user", "name": "local.user", "team_id": team_id},
        "api_app_id": "A0LOCAL",
        "token": "local-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts or now,
            "channel_id": channel_id,
            "is_ephemeral": not message_ts,
        },
        "trigger_id": f"{int(time.time())}.local",
        "team": {"id": team_id, "domain": "local"},
        "channel": {"id": channel_id, "name": "local"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": action_id,
                "value": value,
                "action_ts": now,
                "text": {"type": "plain_text", "text": action_id},
            }
        ],
    }


def accepted_command_id(answer: Mapping[str, Any]) -> str | None:
    """The command id when the ingress queued the command (follow-ups will come), else None."""
    found = ACCEPTED.search(str(answer.get("text", "")))
    return found.group(1) if found else None


def held_for_approval(answer: Mapping[str, Any]) -> str | None:
    """The held command's id when the ingress held it for approval, else None: the requester's answer says "Held
    as `<id>`" (the bot posts the approval message in the channel; `make run` prints it with its buttons), or, when
    the bot could not be asked to, the answer is the approval message itself, its Approve button's value that id."""
    for block in answer.get("blocks", []):
        for element in block.get("elements", []) if isinstance(block, Mapping) else ():
            if isinstance(element, Mapping) and element.get("action_id") == APPROVE:
                return str(element.get("value", "")) or None
    found = HELD.search(render(answer))
    return found.group(1) if found else None


def is_final(payload: Mapping[str, Any]) -> bool:
    return INTERIM_FOOTER not in render(payload)


def follow(server: ResponseUrlServer, *, timeout: float, out: Any = sys.stdout) -> bool:
    """Print follow-ups until the final one (True) or until `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    count = 0
    while (payload := server.next(deadline - time.monotonic())) is not None:
        count += 1
        how = "in channel" if payload.get("response_type") == "in_channel" else "ephemeral"
        print(f"\n── follow-up {count} ({how}, via response_url) ──\n{shown(payload)}", file=out, flush=True)
        if is_final(payload):
            return True
    return False


def run(args: argparse.Namespace, out: Any = sys.stdout) -> int:
    command = SlashCommand(
        text=args.text,
        user_id=args.user,
        channel_id=args.channel,
        team_id=args.team,
        user_name=getattr(args, "user_name", "") or local_name(args.user),
        channel_name=local_channel_name(args.channel),
    )
    with ResponseUrlServer() as server:
        body = urlencode(slack_form(command, server.url, trigger_id=local_trigger_id() or "")).encode()
        try:
            status, answer = post(args.url, body, signed_headers(body, args.secret))
        except (urllib.error.URLError, OSError) as error:
            print(f"cannot reach the ingress at {args.url} ({error}): is `make run` running?", file=out, flush=True)
            return 1
        print(f"── immediate answer (HTTP {status}) ──\n{shown(answer)}", file=out, flush=True)
        if status != 200:
            return 1
        if not answer:  # `/ops deploy` or `/ops restore` alone: a form opened on the local Slack
            fill = f"bin/slashops submit {args.text.strip()} --field …"
            print(f"(a form opened: `{fill}` fills it)", file=out, flush=True)
            return 0
        if (held := held_for_approval(answer)) is not None:
            print(
                "\n(held for approval: `make run` prints the approval message with its buttons; press Approve or Deny "
                "in another terminal, as an approver: `--as U…`)",
                file=out,
                flush=True,
            )
            return 0 if follow_status(args, command, held, out=out) else _gave_up(args, out)
        command_id = accepted_command_id(answer)
        if command_id is None:
            return 0  # answered by the ingress itself (help, status, a refusal): nothing follows
        if ANNOUNCED in render(answer):
            return 0 if follow_status(args, command, command_id, out=out) else _gave_up(args, out)
        if follow(server, timeout=args.timeout, out=out):
            return 0
    print(f"\n(no final result within {args.timeout:.0f}s; `/ops status` shows it later)", file=out, flush=True)
    return 2


def follow_status(args: argparse.Namespace, command: SlashCommand, command_id: str, *, out: Any) -> bool:
    """Ask `/ops status <id>` (signed, as `command`'s user) until it has finished (True) or `--timeout` (False);
    print each new state."""
    print(
        f"\n(announced in channel {command.channel_id}: `make run` prints the channel message and its thread; "
        f"following it with /ops status {command_id})",
        file=out,
        flush=True,
    )
    deadline, last = time.monotonic() + args.timeout, ""
    while time.monotonic() < deadline:
        asking = SlashCommand(text=f"status {command_id}", user_id=command.user_id, channel_id=command.channel_id)
        body = urlencode(slack_form(asking, "http://127.0.0.1:9/unused")).encode()
        _, answer = post(args.url, body, signed_headers(body, args.secret))
        state = STATUS_STATE.search(str(answer.get("text", "")))
        if state and state.group(1) != last:
            last = state.group(1)
            print(f"\n── status: {last} ──\n{shown(answer)}", file=out, flush=True)
            if last in FINISHED:
                return True
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
    return False


def _commands_url(interactions_url: str) -> str:
    """The slash-command endpoint beside the interactivity one (`/ops status` is a command)."""
    return interactions_url.removesuffix("/slack/interactions") + "/slack/commands"


def _gave_up(args: argparse.Namespace, out: Any) -> int:
    print(f"\n(no final result within {args.timeout:.0f}s; `/ops status` shows it later)", file=out, flush=True)
    return 2


def run_click(args: argparse.Namespace, out: Any = sys.stdout) -> int:
    """Press a button: print the answer (which the ingress also posts to the response_url) and the follow-ups."""
    with ResponseUrlServer() as server:
        payload = click_payload(
            args.action_id,
            args.value,
            server.url,
            user_id=args.user,
            channel_id=args.channel,
            message_ts=args.message_ts,
        )
        body = urlencode({"payload": json.dumps(payload)}).encode()
        try:
            status, answer = post(args.url, body, signed_headers(body, args.secret))
        except (urllib.error.URLError, OSError) as error:
            print(f"cannot reach the ingress at {args.url} ({error}): is `make run` running?", file=out, flush=True)
            return 1
        print(f"── answer to the click (HTTP {status}) ──\n{shown(answer)}", file=out, flush=True)
        if status != 200:
            return 1
        server.next(1.0)  # the same answer, posted to the response_url in place of the button's message
        command_id = accepted_command_id(answer)
        if command_id is None:
            return 0
        if ANNOUNCED in render(answer):  # a Retry: a new announced command
            clicker = SlashCommand(text="", user_id=args.user, channel_id=args.channel)
            status_args = argparse.Namespace(**{**vars(args), "url": _commands_url(args.url)})
            return 0 if follow_status(status_args, clicker, command_id, out=out) else _gave_up(args, out)
        if follow(server, timeout=args.timeout, out=out):
            return 0
    print(f"\n(no final result within {args.timeout:.0f}s; `/ops status` shows it later)", file=out, flush=True)
    return 2


INGRESS_HELP = "the ingress (default: $INGRESS_PORT, else the port the running `make run` wrote)"


def ingress_port(env: Mapping[str, str], state: Path = LOCAL_STATE) -> str:
    """`$INGRESS_PORT`, else the port the running `make run` wrote to `.local/make-run.json`, else the default: the
    tools find `make run`'s ingress without anything exported in each shell (issue 21.5)."""
    given = setting(env, "INGRESS_PORT")
    if given:
        return given
    try:
        running = json.loads(state.read_text())
    except (OSError, ValueError):
        return str(DEFAULT_INGRESS_PORT)
    port = running.get("ingress_port") if isinstance(running, dict) else None
    return str(port) if isinstance(port, int) else str(DEFAULT_INGRESS_PORT)


def click_parser() -> argparse.ArgumentParser:
    port = ingress_port(os.environ)
    cli = argparse.ArgumentParser(
        prog="slashops click",
        description="Press a button the ingress showed (`send` "
        "prints each as `bin/slashops click <action_id> --value <value>`).",
    )
    cli.add_argument("action_id", help="the button's action id, e.g. restore.confirm")
    cli.add_argument("--value", default="", help="the button's value, as `send` printed it")
    cli.add_argument("--as", dest="user", default="U0LOCAL", help="the Slack user id who clicks (default U0LOCAL)")
    cli.add_argument("--channel", default="C0LOCAL", help="Slack channel id (default C0LOCAL)")
    cli.add_argument(
        "--message-ts",
        default="",
        help="the channel message holding the button (Cancel, Retry: `make run` prints it); default: an ephemeral one",
    )
    cli.add_argument(
        "--url",
        default=f"http://127.0.0.1:{port}/slack/interactions",
        help="the ingress (default: $INGRESS_PORT, else the port the running make run wrote)",
    )
    _add_signing_and_wait(cli)
    return cli


def _add_signing_and_wait(cli: argparse.ArgumentParser) -> None:
    """What `send` and `click` share: the secret they sign with, and how long they wait for follow-ups."""
    cli.add_argument(
        "--secret",
        default=setting(os.environ, "SLACK_SIGNING_SECRET", LOCAL_SIGNING_SECRET),
        help="signing secret (default: $SLACK_SIGNING_SECRET, else make run's local default)",
    )
    cli.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the final result (default 60)")


def parser() -> argparse.ArgumentParser:
    port = ingress_port(os.environ)
    cli = argparse.ArgumentParser(
        prog="slashops send", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    cli.add_argument("text", help='what follows /ops, e.g. "deploy --client acme --branch main"')
    cli.add_argument("--user", default="U0LOCAL", help="Slack user id (default U0LOCAL)")
    cli.add_argument("--channel", default="C0LOCAL", help="Slack channel id (default C0LOCAL)")
    cli.add_argument("--team", default="T0LOCAL", help="Slack team id (default T0LOCAL)")
    cli.add_argument(
        "--user-name",
        default="",
        help="the user name Slack sends beside the id (default: make run's name for --user). Never an identity: "
        "the rules match IDs, and names only as Slack resolves them",
    )
    cli.add_argument(
        "--url",
        default=f"http://127.0.0.1:{port}/slack/commands",
        help="the ingress (default: $INGRESS_PORT, else the port the running make run wrote)",
    )
    _add_signing_and_wait(cli)
    return cli


def main(argv: list[str] | None = None) -> int:
    """`slashops send`."""
    return run(parser().parse_args(sys.argv[1:] if argv is None else argv), sys.stdout)


def click_main(argv: list[str] | None = None) -> int:
    """`slashops click`."""
    return run_click(click_parser().parse_args(sys.argv[1:] if argv is None else argv), sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
