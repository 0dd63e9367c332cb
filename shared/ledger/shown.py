"""How a command from the ledger is shown, the same in `status`, `history` and the Home tab (which the ingress and
the notifier both publish): its state as an icon and words, its age, and its one-line summary."""

from __future__ import annotations

from datetime import datetime

from shared.commands.catalog import CATALOG
from shared.ledger.models import CommandState, LedgerEntry
from shared.slack.messages import format_arguments
from shared.slack.mrkdwn import code, mention

STATE_ICONS: dict[CommandState, str] = {
    "awaiting approval": ":raised_hand:",
    "requested": ":inbox_tray:",
    "accepted": ":hourglass_flowing_sand:",
    "running": ":arrows_counterclockwise:",
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "cancelled": ":octagonal_sign:",
    "rejected": ":no_entry:",
    "refused": ":no_entry_sign:",
    "denied": ":no_entry:",
    "expired": ":hourglass:",
}
ARGUMENTS_SHOWN = 160
"""A line's arguments are cut past this: ten lines stay within a section's 3,000 characters."""


def age(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def shown_state(entry: LedgerEntry, now: datetime) -> tuple[str, str]:
    """The icon and the words for a command's state, approvals included (mrkdwn: deciders are mentions)."""
    if entry.approval_lapsed(now):
        return STATE_ICONS["expired"], "expired (no decision)"
    state = entry.shown_state
    words: str = state
    if state == "denied" and entry.decided_by:
        words = f"denied by {mention(entry.decided_by)}"
    elif entry.approval == "approved":
        words = f"{state} (approved by {mention(entry.decided_by)})"
    return STATE_ICONS[state], words


def command_line(entry: LedgerEntry, now: datetime) -> str:
    """mrkdwn: icon, id, command and arguments (escaped), state, who, how long ago."""
    shown = format_arguments(entry.arguments, CATALOG.get(entry.command))
    if len(shown) > ARGUMENTS_SHOWN:
        shown = shown[: ARGUMENTS_SHOWN - 1] + "…"
    icon, state = shown_state(entry, now)
    return (
        f"{icon} {code(entry.command_id)} {code(entry.command)}{(' ' + shown) if shown else ''}"
        f" · {state} · {mention(entry.user_id)} · {age(entry.started_at(), now)} ago"
    )
