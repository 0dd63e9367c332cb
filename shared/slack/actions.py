"""The buttons the notifier puts on an announced command's channel message, and their action ids.

The ingress (`chalicelib.clicks.ACTIONS`) turns a click into the command a user could type, run for the clicker:
**Cancel** is `cancel <id>`; **Retry** is the command's own text again, as a new command. A button's `value` is
only the command id: the ingress reads the rest from the ledger and re-checks everything as for typed text.
"""

from __future__ import annotations

from shared.slack.blocks import Block, truncate

CANCEL = "command.cancel"
RETRY = "command.retry"
CONFIRM_TEXT_LIMIT = 300


def cancel_button(command_id: str, what: str) -> Block:
    """A danger button behind Slack's "are you sure" dialog: `what` (mrkdwn) names what would be stopped."""
    return {
        "type": "button",
        "action_id": CANCEL,
        "text": {"type": "plain_text", "text": "Cancel"},
        "style": "danger",
        "value": command_id,
        "confirm": {
            "title": {"type": "plain_text", "text": "Stop it?"},
            "text": {"type": "mrkdwn", "text": truncate(f"This stops {what}.", CONFIRM_TEXT_LIMIT)},
            "confirm": {"type": "plain_text", "text": "Stop it"},
            "deny": {"type": "plain_text", "text": "Keep it running"},
            "style": "danger",
        },
    }


def retry_button(command_id: str) -> Block:
    return {
        "type": "button",
        "action_id": RETRY,
        "text": {"type": "plain_text", "text": "Retry"},
        "style": "primary",
        "value": command_id,
    }


def actions(*buttons: Block) -> Block:
    """No `block_id`: the message is updated as the command goes, and Slack asks for a new one on each version
    (it makes one up when there is none)."""
    return {"type": "actions", "elements": list(buttons)}
