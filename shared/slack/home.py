"""The Home tab's view (`views.publish`): what waits for a user, what they ran, what is locked, frozen, backed up.

Built by the ingress (`chalicelib.home`) from what it reads for one user; this module only lays it out within
Slack's limits for a view (100 blocks, 3,000 characters a section). Every line it is given is mrkdwn built from
escaped parts (`shared.slack.mrkdwn`); what a requester typed is escaped here (`HeldCommand.typed`). An approval
waiting for the user carries the same **Approve**/**Deny** buttons (action ids, values) as the channel message, so a
click from the Home is decided by the same code (`chalicelib.approval_clicks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.deadline import Deadline
from shared.ledger.models import LedgerEntry
from shared.ledger.shown import command_line
from shared.slack.approvals import HeldCommand, approval_buttons
from shared.slack.blocks import SECTION_LIMIT, Block, context, section, truncate
from shared.slack.mrkdwn import channel, code, mention

MAX_VIEW_BLOCKS = 100
"""Slack refuses a view with more blocks than this."""
APPROVALS_SHOWN = 15
"""Each takes two blocks (the request, its buttons): the rest are counted, not shown."""
LINES_PER_SECTION = 10
CALLBACK_ID = "slashops.home"
RECENT_SHOWN = 10
RUNNING_STATES = frozenset({"requested", "accepted", "running"})
RUNNING_TITLE, RECENT_TITLE = "Your commands running now", f"Your last {RECENT_SHOWN} commands"


class HomePublisher(Protocol):
    """Publishes a user's Home (`views.publish`); raises only `shared.slack.views.ViewsUnavailableError`.

    Apart from the forms' `ViewsPort` (open/update need a trigger, publishing needs none). Adapter:
    `shared.slack.sdk_home.SlackSdkHome`; fake: `tests.support.fakes.home.MemoryHome`; the local Slack keeps the
    latest Home per user (`tools.fakes.slack`).
    """

    def publish(self, user_id: str, view: dict[str, Any], *, deadline: Deadline) -> None: ...


@dataclass(frozen=True)
class HomePart:
    """One part of the Home: a bold `title`, its mrkdwn `lines` (or `empty` when there are none), a `note` under it."""

    title: str
    lines: tuple[str, ...]
    empty: str
    note: str = ""


def home_view(
    *,
    approvals: Sequence[HeldCommand],
    approvals_note: str = "",
    parts: Sequence[HomePart],
    updated: str,
    notice: Sequence[Block] = (),
) -> dict[str, Any]:
    """The Home as Slack's view JSON. `notice`: what the user's last click on the Home did (shown first)."""
    blocks: list[Block] = [
        section("*slashops* — what waits for you, what you ran, and what is locked"),
        context(f"As of {updated}. Reopening this tab refreshes it; `/ops help` lists every command."),
    ]
    if notice:
        blocks += [{"type": "divider"}, *notice]
    blocks += [{"type": "divider"}, *_approval_blocks(approvals, approvals_note)]
    for part in parts:
        blocks += [{"type": "divider"}, *_part_blocks(part)]
    return {"type": "home", "callback_id": CALLBACK_ID, "blocks": _fitted(blocks)}


def command_parts(entries: Sequence[LedgerEntry], now: datetime) -> list[HomePart]:
    """The user's commands running now and their last ten, from their own ledger entries (newest first)."""
    running = [command_line(entry, now) for entry in entries if entry.shown_state in RUNNING_STATES]
    recent = [command_line(entry, now) for entry in entries[:RECENT_SHOWN]]
    note = f"{code('/ops status <id>')} shows one in detail; {code('/ops history --mine')} lists more."
    return [
        HomePart(RUNNING_TITLE, tuple(running), "None of your commands is running."),
        HomePart(RECENT_TITLE, tuple(recent), "You have not run a command yet.", note=note),
    ]


def unread_command_parts(why: str) -> list[HomePart]:
    """Both command parts, when the ledger could not be read: `why` (mrkdwn) instead of the lines."""
    return [HomePart(RUNNING_TITLE, (), why), HomePart(RECENT_TITLE, (), why)]


def approval_line(held: HeldCommand) -> str:
    """mrkdwn: who asks for what, where, why it is held, until when."""
    return (
        f":raised_hand: {mention(held.requester)} asks to run {held.typed} in {channel(held.channel_id)}\n"
        f"{held.held_for_first}; expires at {held.until}. Held as {code(held.approval_id)}."
    )


def _approval_blocks(approvals: Sequence[HeldCommand], note: str) -> list[Block]:
    title = "*Waiting for your approval*"
    if not approvals:
        return [section(f"{title}\nNothing waits for you."), *([context(note)] if note else [])]
    blocks: list[Block] = [section(title)]
    for held in approvals[:APPROVALS_SHOWN]:
        buttons = approval_buttons(held.approval_id, block_id=f"approval:{held.approval_id}")
        blocks += [section(truncate(approval_line(held), SECTION_LIMIT)), buttons]
    hidden = len(approvals) - APPROVALS_SHOWN
    notes = [f"{hidden} more not shown: decide these first, or in their channels."] if hidden > 0 else []
    notes += [note] if note else []
    if notes:
        blocks.append(context(" ".join(notes)))
    return blocks


def _part_blocks(part: HomePart) -> list[Block]:
    if not part.lines:
        return [section(f"*{part.title}*\n{part.empty}"), *([context(part.note)] if part.note else [])]
    chunks = [part.lines[start : start + LINES_PER_SECTION] for start in range(0, len(part.lines), LINES_PER_SECTION)]
    blocks = [section(truncate(f"*{part.title}*\n" + "\n".join(chunks[0]), SECTION_LIMIT))]
    blocks += [section(truncate("\n".join(chunk), SECTION_LIMIT)) for chunk in chunks[1:]]
    return [*blocks, *([context(part.note)] if part.note else [])]


def _fitted(blocks: list[Block]) -> list[Block]:
    """At most `MAX_VIEW_BLOCKS`: past it, the last kept block says so (never an actions block left without its
    request above it: the cut falls before a request's pair)."""
    if len(blocks) <= MAX_VIEW_BLOCKS:
        return blocks
    kept = blocks[: MAX_VIEW_BLOCKS - 1]
    if kept[-1].get("type") == "section" and blocks[MAX_VIEW_BLOCKS - 1].get("type") == "actions":
        kept.pop()
    return [*kept, context("The rest does not fit on the Home: `/ops history --mine`, `/ops locks` show all.")]
