"""`slashops submit`: open a command's form under `make run`, show it, fill it and submit it, as Slack would.

    slashops submit deploy --as U0DEV1 --channel C0LOCAL --field client=acme --field env=staging --field branch=main

It asks the local Slack (`tools.fakes.slack`) for a `trigger_id`, sends `/ops <command>` alone with it (signed, as
`send` does), reads the form the ingress opened (`views.open` on the local Slack) and prints it as a person sees it,
then submits it (a signed `view_submission` to `/slack/interactions`) with the `--field`s given (a field not given
keeps what the form shows) and prints what came back: the errors under the fields, or the command's answer the bot
posted for you in the channel (`chat.postEphemeral`). An announced command (a deploy) is then followed with
`/ops status` until it finishes, as `send` follows it. `--show` only opens and prints the form; `--cancel` closes it.

A select only takes one of its options (the Slack client offers nothing else): another value is refused here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from shared.settings import setting
from tools.cli.local_slack import LocalSlackError, ask_local_slack, local_slack_url
from tools.cli.send import (
    ANNOUNCED,
    SlashCommand,
    accepted_command_id,
    follow_status,
    ingress_port,
    post,
    render,
    shown,
    signed_headers,
    slack_form,
)
from tools.local.defaults import LOCAL_SIGNING_SECRET, local_channel_name, local_name


class FormError(Exception):
    """What stops the CLI before or while submitting (said, with exit status 1)."""


def ask_slack(base: str, path: str, asked: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return ask_local_slack(base, path, asked)
    except LocalSlackError as error:
        raise FormError(str(error)) from error


def inputs(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [block for block in view.get("blocks") or [] if isinstance(block, dict) and block.get("type") == "input"]


def form_text(view: Mapping[str, Any]) -> str:
    """The form as a person reads it in Slack: its title, each field (a select's options, a text's value), its
    notes, and its buttons."""
    lines = [f"┌ {_plain(view.get('title'))}"]
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            element = block.get("element") or {}
            optional = " (optional)" if block.get("optional") else ""
            label = f"│ {_plain(block.get('label'))}{optional} [--field {block.get('block_id')}=…]"
            if element.get("type") == "static_select":
                initial = (element.get("initial_option") or {}).get("value")
                choices = [
                    f"({'•' if o['value'] == initial else ' '}) {o['value']}" for o in element.get("options") or []
                ]
                lines += [label, "│    " + "  ".join(choices) if choices else "│    (no options)"]
            else:
                value = element.get("initial_value") or f"<{_plain(element.get('placeholder')) or 'empty'}>"
                lines += [label, f"│    [{value}]"]
            if block.get("hint"):
                lines.append(f"│    {_plain(block.get('hint'))}")
        else:
            lines += [f"│ {line}" for line in shown({"blocks": [block]}).splitlines() if line.strip()]
    buttons = [_plain(view.get(key)) for key in ("close", "submit") if view.get(key)]
    lines.append("└ " + "  ".join(f"[{button}]" for button in buttons))
    return "\n".join(lines)


def state_values(view: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The form's `state.values` as Slack sends them: each field as given (`--field`), else as the form shows it."""
    unknown = sorted(set(fields) - {block.get("block_id") for block in inputs(view)})
    if unknown:
        raise FormError(f"the form has no field {', '.join(unknown)}")
    values: dict[str, dict[str, Any]] = {}
    for block in inputs(view):
        element, name = block.get("element") or {}, str(block.get("block_id"))
        action = str(element.get("action_id", name))
        if element.get("type") == "static_select":
            values[name] = {action: _selected(element, fields.get(name), name)}
        else:
            value = fields.get(name, element.get("initial_value") or "")
            values[name] = {action: {"type": "plain_text_input", "value": value or None}}
    return values


def _selected(element: Mapping[str, Any], given: str | None, name: str) -> dict[str, Any]:
    options = {option["value"]: option for option in element.get("options") or []}
    if given is None:
        chosen = element.get("initial_option")
    elif given in options:
        chosen = options[given]
    else:
        raise FormError(f"{name}: {given!r} is not offered (the form offers: {', '.join(options) or 'nothing'})")
    return {"type": "static_select", "selected_option": chosen}


def submission(
    view: Mapping[str, Any], values: dict[str, dict[str, Any]], *, user_id: str, team_id: str, kind: str
) -> dict[str, Any]:
    """The `view_submission` (or `view_closed`) payload Slack posts for this view."""
    return {
        "type": kind,
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "username": local_name(user_id), "name": local_name(user_id), "team_id": team_id},
        "api_app_id": "A0LOCAL",
        "token": "local-verification-token",
        "trigger_id": f"{int(time.time())}.local.submit",
        "view": {
            "id": view["id"],
            "hash": view.get("hash", ""),
            "type": "modal",
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": values},
        },
    }


def run(args: argparse.Namespace, out: Any = sys.stdout) -> int:
    try:
        return _run(args, out)
    except FormError as error:
        print(f"slashops submit: {error}", file=out, flush=True)
        return 1


def _run(args: argparse.Namespace, out: Any) -> int:
    try:
        base = local_slack_url(args.slack_url)
    except LocalSlackError as error:
        raise FormError(str(error)) from error
    fields = dict(_field(given) for given in args.field)
    trigger = str(ask_slack(base, "/local/trigger", {})["trigger_id"])
    typed = SlashCommand(
        text=args.command,
        user_id=args.user,
        channel_id=args.channel,
        team_id=args.team,
        user_name=local_name(args.user),
        channel_name=local_channel_name(args.channel),
    )
    body = urlencode({**slack_form(typed, "http://127.0.0.1:9/unused"), "trigger_id": trigger}).encode()
    status, answer = _post(args.url, body, args.secret)
    if answer or status != 200:  # no form: the ingress answered as it answers the typed text
        print(f"── no form; the answer (HTTP {status}) ──\n{shown(answer)}", file=out, flush=True)
        return 1
    view = ask_slack(base, "/local/view", {"trigger_id": trigger})["view"]
    print(f"── the form Slack shows {args.user} ──\n{form_text(view)}", file=out, flush=True)
    if args.show:
        return 0
    kind = "view_closed" if args.cancel else "view_submission"
    payload = submission(view, state_values(view, fields), user_id=args.user, team_id=args.team, kind=kind)
    sent_at = time.time()
    body = urlencode({"payload": json.dumps(payload)}).encode()
    status, answer = _post(_interactions_url(args.url), body, args.secret)
    if args.cancel:
        print(f"\n── cancelled (HTTP {status}): nothing was run ──", file=out, flush=True)
        return 0 if status == 200 else 1
    return _answered(args, base, typed, status, answer, sent_at, out)


def _answered(
    args: argparse.Namespace,
    base: str,
    typed: SlashCommand,
    status: int,
    answer: dict[str, Any],
    sent_at: float,
    out: Any,
) -> int:
    if status != 200:
        print(f"\n── the submission was refused (HTTP {status}) ──\n{shown(answer)}", file=out, flush=True)
        return 1
    if answer.get("response_action") == "errors":
        errors = "\n".join(f"  {name}: {error}" for name, error in (answer.get("errors") or {}).items())
        print(f"\n── the form stays open, with errors under its fields ──\n{errors}", file=out, flush=True)
        return 1
    if answer.get("response_action") == "update":
        print(f"\n── the form now shows ──\n{form_text(answer.get('view') or {})}", file=out, flush=True)
        return 1
    asked = {"user": args.user, "channel": args.channel, "since": sent_at - 1}
    messages = ask_slack(base, "/local/ephemeral", asked)["messages"]
    print("\n── the form closed; the answer, only you see it in the channel ──", file=out, flush=True)
    for message in messages:
        print(shown(message), file=out, flush=True)
    command_id = next((found for m in messages if (found := accepted_command_id(m))), None)
    if command_id is None or not any(ANNOUNCED in render(m) for m in messages):
        return 0
    return 0 if follow_status(args, typed, command_id, out=out) else 2


def _post(url: str, body: bytes, secret: str) -> tuple[int, dict[str, Any]]:
    try:
        return post(url, body, signed_headers(body, secret))
    except (urllib.error.URLError, OSError) as error:
        raise FormError(f"cannot reach the ingress at {url} ({error}): is `make run` running?") from error


def _interactions_url(commands_url: str) -> str:
    return commands_url.removesuffix("/slack/commands") + "/slack/interactions"


def _field(given: str) -> tuple[str, str]:
    name, sep, value = given.partition("=")
    if not sep or not name:
        raise FormError(f"--field {given!r}: write it as name=value (e.g. --field client=acme)")
    return name, value


def _plain(text: Any) -> str:
    return str(text.get("text", "")) if isinstance(text, Mapping) else str(text or "")


def parser() -> argparse.ArgumentParser:
    port = ingress_port(os.environ)
    cli = argparse.ArgumentParser(
        prog="slashops submit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_argument("command", choices=("deploy", "restore"), help="the command whose form to open")
    cli.add_argument("--as", dest="user", default="U0LOCAL", help="the Slack user id (default U0LOCAL)")
    cli.add_argument("--channel", default="C0LOCAL", help="the channel the command is typed in (default C0LOCAL)")
    cli.add_argument("--team", default="T0LOCAL", help="Slack team id (default T0LOCAL)")
    cli.add_argument("--field", action="append", default=[], metavar="NAME=VALUE", help="a field's value (repeatable)")
    what = cli.add_mutually_exclusive_group()
    what.add_argument("--show", action="store_true", help="only open the form and print it")
    what.add_argument("--cancel", action="store_true", help="open the form, then cancel it (nothing runs)")
    cli.add_argument(
        "--url",
        default=f"http://127.0.0.1:{port}/slack/commands",
        help="the ingress' command URL (default: $INGRESS_PORT, else the port the running make run wrote)",
    )
    cli.add_argument(
        "--slack-url", default="", help="the local Slack's API URL (default: $SLACK_API_URL, else make run's)"
    )
    cli.add_argument(
        "--secret",
        default=setting(os.environ, "SLACK_SIGNING_SECRET", LOCAL_SIGNING_SECRET),
        help="signing secret (default: $SLACK_SIGNING_SECRET, else make run's local default)",
    )
    cli.add_argument("--timeout", type=float, default=60.0, help="seconds to follow an announced command (60)")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """`slashops submit`."""
    return run(parser().parse_args(list(sys.argv[1:] if argv is None else argv)), sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
