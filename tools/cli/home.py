"""`slashops home`: open a user's Home tab under `make run`, as Slack would, and print it as they would read it.

    slashops home --as U0APPROVER
    slashops home --as U0APPROVER --click approval.approve --value 3f9c0a1b2c3d

It posts a signed `app_home_opened` event to the ingress' `/slack/events` (a new `event_id` each time), then reads
the Home the ingress published (`views.publish` on the local Slack, `tools.fakes.slack`) and prints it: each part,
and each button as the `slashops home … --click` line that presses it. `--click` presses a button on the Home (a
signed `block_actions` from a `view` container: no channel, no response_url, as Slack sends it) and prints the Home
the ingress republished with what the click did on top.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import sys
import time
import urllib.error
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from shared.settings import setting
from tools.cli.local_slack import LocalSlackError, ask_local_slack, local_slack_url
from tools.cli.send import ingress_port, plain_text, post, signed_headers
from tools.local.defaults import LOCAL_SIGNING_SECRET

JSON = {"Content-Type": "application/json"}
WAIT_SECONDS = 5.0
"""How long to wait for the ingress' `views.publish` to reach the local Slack (it is done before the answer)."""


class HomeError(Exception):
    """What stops the CLI (said, with exit status 1)."""


def home_opened(user_id: str, team_id: str) -> dict[str, Any]:
    """The Events API envelope Slack posts when `user_id` opens the app's Home tab."""
    now = time.time()
    return {
        "token": "local-verification-token",
        "team_id": team_id,
        "api_app_id": "A0LOCAL",
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(6).upper()}",
        "event_time": int(now),
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D0LOCAL",
            "tab": "home",
            "event_ts": f"{now:.6f}",
        },
    }


def home_click(action_id: str, value: str, user_id: str, team_id: str) -> dict[str, Any]:
    """The `block_actions` payload Slack posts for a button on the Home tab."""
    now = f"{time.time():.6f}"
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "local.user", "name": "local.user", "team_id": team_id},
        "api_app_id": "A0LOCAL",
        "token": "local-verification-token",
        "container": {"type": "view", "view_id": f"VHOME{user_id}"},
        "view": {"id": f"VHOME{user_id}", "type": "home", "callback_id": "slashops.home"},
        "trigger_id": f"{int(time.time())}.local",
        "team": {"id": team_id, "domain": "local"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"approval:{value}",
                "value": value,
                "action_ts": now,
                "text": {"type": "plain_text", "text": action_id},
            }
        ],
    }


def home_text(view: Mapping[str, Any], user_id: str) -> str:
    """The Home as a person reads it: each block's text, dividers as rules, buttons as the line that presses them."""
    lines: list[str] = []
    for block in view.get("blocks") or []:
        kind = block.get("type")
        if kind == "divider":
            lines.append("─" * 60)
        elif kind == "actions":
            lines += [_button_line(element, user_id) for element in block.get("elements", [])]
        elif kind == "context":
            lines.append("  " + " ".join(plain_text(str(e.get("text", ""))) for e in block.get("elements", [])))
        elif isinstance(block.get("text"), Mapping):
            lines.append(plain_text(str(block["text"].get("text", ""))))
    return "\n".join(lines)


def _button_line(button: Mapping[str, Any], user_id: str) -> str:
    label = button.get("text", {}).get("text", "") if isinstance(button.get("text"), Mapping) else ""
    value = shlex.quote(str(button.get("value", "")))
    return f"  [{label}] → bin/slashops home --as {user_id} --click {button.get('action_id', '')} --value {value}"


def slack_base(given: str) -> str:
    """The local Slack's root (`tools.cli.local_slack`: `--slack-url`, `$SLACK_API_URL`, else `make run`'s)."""
    try:
        return local_slack_url(given)
    except LocalSlackError as error:
        raise HomeError(str(error)) from error


def published(base: str, user_id: str) -> tuple[int, dict[str, Any]]:
    """How many times the user's Home was published, and the latest (`{}`: none yet)."""
    try:
        answer = ask_local_slack(base, "/local/home", {"user": user_id})
    except LocalSlackError as error:
        raise HomeError(str(error)) from error
    view = answer.get("view")
    return int(answer.get("published") or 0), view if isinstance(view, dict) else {}


def run(args: argparse.Namespace, out: Any = sys.stdout) -> int:
    try:
        base = slack_base(args.slack_url)
        before, _ = published(base, args.user)
        status, answer = _send(args)
        if status != 200:
            raise HomeError(f"the ingress answered HTTP {status}: {answer}")
        view = _republished(base, args.user, before)
    except HomeError as error:
        print(f"slashops home: {error}", file=out, flush=True)
        return 1
    print(f"── Home of {args.user} ──\n{home_text(view, args.user)}", file=out, flush=True)
    return 0


def _send(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    base = args.url.rstrip("/")
    if args.click:
        payload = home_click(args.click, args.value, args.user, args.team)
        body = urlencode({"payload": json.dumps(payload)}).encode()
        headers = signed_headers(body, args.secret)
        path = "/slack/interactions"
    else:
        body = json.dumps(home_opened(args.user, args.team)).encode()
        headers = signed_headers(body, args.secret) | JSON
        path = "/slack/events"
    try:
        return post(base + path, body, headers)
    except (urllib.error.URLError, OSError) as error:
        raise HomeError(f"cannot reach the ingress at {base} ({error}): is `make run` running?") from error


def _republished(base: str, user_id: str, before: int) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        count, view = published(base, user_id)
        if count > before:
            return view
        time.sleep(0.1)
    raise HomeError("the ingress did not publish the Home (its log says why: Slack refused it, or out of time)")


def parser() -> argparse.ArgumentParser:
    port = ingress_port(os.environ)
    cli = argparse.ArgumentParser(
        prog="slashops home", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    cli.add_argument(
        "--as", dest="user", default="U0LOCAL", help="the Slack user id whose Home opens (default U0LOCAL)"
    )
    cli.add_argument("--click", default="", help="press this button on the Home (approval.approve, approval.deny)")
    cli.add_argument("--value", default="", help="the button's value, as the Home printed it")
    cli.add_argument("--team", default="T0LOCAL", help="Slack team id (default T0LOCAL)")
    cli.add_argument(
        "--url",
        default=f"http://127.0.0.1:{port}",
        help="the ingress' root (default: $INGRESS_PORT, else the port the running make run wrote)",
    )
    cli.add_argument("--slack-url", default="", help="the local Slack (default: $SLACK_API_URL, else make run's)")
    cli.add_argument(
        "--secret",
        default=setting(os.environ, "SLACK_SIGNING_SECRET", LOCAL_SIGNING_SECRET),
        help="signing secret (default: $SLACK_SIGNING_SECRET, else make run's local default)",
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    """`slashops home`."""
    return run(parser().parse_args(sys.argv[1:] if argv is None else argv), sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
