"""The buttons on an announced command's channel message (`shared.slack.actions`): each is a command a user could
type, run for the clicker through `consumer.handle_command`.

**Cancel** is `cancel <id>`: the deploy service decides who may stop a deploy (its starter, or users the access
rules admit for `cancel`). **Retry** is the failed command's own text, read from the ledger, run as if the clicker
typed it where they clicked: parsed again, access-checked for the clicker (approval rules included), published as
a NEW command with its own id. A button's value is only the command id, validated like a typed one, and never
trusted: a clicker who may not see that command (`ledger_view.visible_entry`, the rule of `status <id>`) is answered
exactly as `status <id>` answers them — no state, no text — and nothing runs.
Each button acts once per message, whoever clicks and however often (the replay guard is keyed on the message and
the button, as for the restore confirmation): the second click is told the first one's command id.
Answers go to the clicker alone (`keep_original`): the channel message is the notifier's, updated as the command goes.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from chalicelib.consumer import handle_command
from chalicelib.deps import IngressDeps
from chalicelib.interaction_request import BlockActions
from chalicelib.ledger_view import Viewer, require_ledger, visible_entry
from chalicelib.models import VerifiedRequest
from shared.errors import SlashopsError
from shared.ledger.models import LedgerEntry
from shared.replay import SignedRequest
from shared.slack.actions import CANCEL, RETRY, ROLLBACK
from shared.slack.blocks import SlackMessage
from shared.slack.mrkdwn import code

KEEPS_ORIGINAL = frozenset({CANCEL, RETRY, ROLLBACK})
"""Buttons on a channel message: the answer to a click is a new ephemeral message, never a replacement."""
_COMMAND_ID = re.compile(r"[a-z0-9]{6,32}")
"""What `cancel` and `status` accept as a command id (`shared.commands.validators`)."""

AS_STATED = {
    "awaiting approval": "is waiting for approval",
    "requested": "has not finished yet",
    "accepted": "has not finished yet",
    "running": "is still running",
    "succeeded": "succeeded",
    "cancelled": "was cancelled",
    "rejected": "was rejected",
    "refused": "was refused",
    "denied": "was denied",
    "expired": "expired unapproved",
}
"""How a command's state reads after its name ("`deploy` `3f9c…` succeeded")."""


def cancel_command(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    """`cancel <id>`, as if the clicker typed it — for a command the clicker may see."""
    command_id = _visible(click, verified, deps).command_id
    return _as_typed(click, verified, deps, shlex.join(["cancel", command_id]))


def retry_command(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    """The failed command again, as the clicker: its text from the ledger, a new command id."""
    entry = _visible(click, verified, deps)
    command_id = entry.command_id
    if not entry.text:
        raise SlashopsError(
            f"slashops has no record of command {code(command_id)}: nothing was run.",
            title="Nothing to retry",
            hint="Type the command again; `/ops history --mine` lists your latest commands.",
        )
    if entry.state != "failed":
        stated = AS_STATED.get(entry.state, f"is {entry.state}")
        raise SlashopsError(
            f"{code(entry.command)} {code(command_id)} {stated}: only a failed command is retried, so nothing was run.",
            title="Nothing to retry",
            hint=f"`/ops status {command_id}` shows it. To run it again anyway, type it: {code('/ops ' + entry.text)}",
        )
    return _as_typed(click, verified, deps, entry.text)


def rollback_command(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    """**Rollback** on a deploy that succeeded: `rollback` of its target (client, environment), for the clicker, as
    if typed where they clicked (the deploy it becomes decides who may run it). It rolls back what runs *now*: the
    answer names the deploy it goes back from."""
    entry = _visible(click, verified, deps)
    client, env = entry.arguments.get("client"), entry.arguments.get("env") or "staging"
    if entry.command != "deploy" or not client:
        raise SlashopsError(
            f"{code(entry.command)} {code(entry.command_id)} is not a deploy slashops can roll back: nothing was run.",
            title="Nothing to roll back",
            hint="`/ops rollback --client <client> --env <env>` rolls back a target.",
        )
    text = shlex.join(["rollback", "--client", str(client), "--env", str(env)])
    return _as_typed(click, verified, deps, text)


def _as_typed(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps, text: str) -> SlackMessage:
    request = click.as_request(text).model_copy(update={"keep_original": True})
    signed = _once_per_message(click, verified.signed)
    return handle_command(VerifiedRequest(request, signed, verified.deadline), deps, normalized=text)


def _visible(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> LedgerEntry:
    """The command the button names, if the clicker may see it; otherwise `status <id>`'s answer (nothing runs)."""
    return visible_entry(_command_id(click), require_ledger(deps.ledger), Viewer.of_request(verified, deps))


def _command_id(click: BlockActions) -> str:
    value = click.action.value
    if not _COMMAND_ID.fullmatch(value):
        raise SlashopsError(
            "This button does not carry a command id slashops can read: nothing was run.",
            title="Unreadable button",
            hint="Type the command instead; `/ops help cancel` shows how.",
        )
    return value


def _once_per_message(click: BlockActions, signed: SignedRequest) -> SignedRequest:
    """Every click on this button of this message is one request for the replay guard."""
    message = click.container.message_ts
    if not message:
        return signed
    where = click.container.channel_id or (click.channel.id if click.channel else "")
    return replace(signed, once_per=f"{click.action.action_id}:{where}:{message}:{click.action.value}")
