"""The buttons the notifier puts on an announced command's channel message, and their action ids.

The ingress (`chalicelib.clicks.ACTIONS`) turns a click into the command a user could type, run for the clicker:
**Cancel** is `cancel <id>`; **Retry** is the command's own text again, as a new command; **Rollback** (on a deploy
that succeeded) is `rollback --client … --env …` of its target. A button's `value` is
only the command id: the ingress reads the rest from the ledger and re-checks everything as for typed text.
"""

from __future__ import annotations

from shared.slack.blocks import Block, button

CANCEL = "command.cancel"
RETRY = "command.retry"
ROLLBACK = "command.rollback"


def cancel_button(command_id: str, what: str) -> Block:
    """A danger button behind Slack's "are you sure" dialog: `what` (mrkdwn) names what would be stopped."""
    dialog = ("Stop it?", f"This stops {what}.", "Stop it", "Keep it running")
    return button(CANCEL, "Cancel", command_id, style="danger", confirm=dialog)


def retry_button(command_id: str) -> Block:
    return button(RETRY, "Retry", command_id, style="primary")


def rollback_button(command_id: str, what: str) -> Block:
    """On a deploy that succeeded: `rollback` of its target, for the clicker, behind a dialog naming `what`."""
    dialog = ("Roll back?", f"This deploys again what ran before {what}.", "Roll back", "Keep it")
    return button(ROLLBACK, "Rollback", command_id, confirm=dialog)


def actions(*buttons: Block) -> Block:
    """No `block_id`: the message is updated as the command goes, and Slack asks for a new one on each version
    (it makes one up when there is none)."""
    return {"type": "actions", "elements": list(buttons)}
