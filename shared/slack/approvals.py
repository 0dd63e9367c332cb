"""Every message about a command held for approval, built once for the ingress and the notifier.

The ingress answers the requester (`sent_for_approval`) and decides clicks; the notifier posts the approval message
(`approval_request`, with **Approve** and **Deny**), edits it when the request expires undecided
(`approval_expired`), reminds the approvers halfway in its thread (`approval_reminder`) and tells the requester the
outcome in a DM (`decision_dm`). Each takes a `HeldCommand`, made from the approval table's item (ingress) or from the
approval events (notifier), so both sides show the same words. What the requester typed is escaped here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.approvals import PendingApproval, shown_at
from shared.config.access import describe_approvers
from shared.locks.models import describe_duration
from shared.slack.blocks import Block, SlackMessage, button, context, section
from shared.slack.mrkdwn import channel, code, mention

APPROVE = "approval.approve"
"""The action id of the **Approve** button (`chalicelib.clicks.ACTIONS`)."""
DENY = "approval.deny"
"""The action id of the **Deny** button."""
Outcome = Literal["approved", "denied", "expired"]


@dataclass(frozen=True)
class HeldCommand:
    """What the messages show about one held command. Times are epoch seconds; `text` is raw (as typed)."""

    approval_id: str
    text: str
    requester: str
    channel_id: str
    rule: int
    approver_users: tuple[str, ...]
    approver_groups: tuple[str, ...]
    requested_at: int
    expires_at: int
    held_because: str = ""
    """Why it is held when no access rule asks (a freeze's override, `PendingApproval.held_because`), mrkdwn."""

    @classmethod
    def of(cls, approval: PendingApproval) -> HeldCommand:
        return cls(
            approval_id=approval.approval_id,
            text=approval.text,
            requester=approval.requester,
            channel_id=approval.channel_id,
            rule=approval.rule,
            approver_users=approval.approver_users,
            approver_groups=approval.approver_groups,
            requested_at=approval.requested_at,
            expires_at=approval.expires_at,
            held_because=approval.held_because,
        )

    @property
    def held_for(self) -> str:
        """What asks for the approval, in a sentence: `access rule #2`, or why else (a freeze's override)."""
        if self.held_because:
            return self.held_because
        return f"access rule #{self.rule}" if self.rule else "overriding a freeze"  # rule 0: a freeze's override

    @property
    def held_for_first(self) -> str:
        """`held_for` to begin a sentence."""
        return self.held_for[:1].upper() + self.held_for[1:]

    @property
    def typed(self) -> str:
        return code(f"/ops {self.text}")

    @property
    def approvers(self) -> str:
        """mrkdwn: user and group ids as mentions (a reminder notifies them), names as code."""
        return describe_approvers(self.approver_users, self.approver_groups)

    @property
    def until(self) -> str:
        return shown_at(self.expires_at)

    @property
    def wait(self) -> str:
        return describe_duration(max(self.expires_at - self.requested_at, 0))


def split_approvers(approvers: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(users, groups) from approvers as the events and the ledger keep them (`group:<id or handle>`)."""
    users = tuple(each for each in approvers if not each.startswith("group:"))
    groups = tuple(each.removeprefix("group:") for each in approvers if each.startswith("group:"))
    return users, groups


def approval_request(held: HeldCommand) -> SlackMessage:
    """In the channel: who asks, the exact command, the rule, who may approve, the expiry; Approve and Deny."""
    asks = f"{mention(held.requester)} asks to run {held.typed}"
    body = (
        f":raised_hand: {asks}\n"
        f"{held.held_for_first} requires approval by {held.approvers} "
        f"(not the requester). Nothing runs until then; this request expires at {held.until} (in {held.wait})."
    )
    notes = f"Held as {code(held.approval_id)}: once approved it runs under that id (`/ops status {held.approval_id}`)."
    blocks: list[Block] = [section(body), context(notes), approval_buttons(held.approval_id)]
    return SlackMessage(
        text=f"Approval needed: {asks}",
        blocks=tuple(blocks),
        response_type="in_channel",
        replace_original=False,  # after a Confirm click: a new channel message, not a replaced private prompt
    )


def approval_buttons(approval_id: str, *, block_id: str = "approval") -> Block:
    """Approve and Deny, each carrying the approval id only (everything else is read from the approval table).
    `block_id`: unique within a view (the Home lists several requests)."""
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            button(APPROVE, "Approve", approval_id, style="primary"),
            button(DENY, "Deny", approval_id, style="danger"),
        ],
    }


def sent_for_approval(held: HeldCommand) -> SlackMessage:
    """The requester's private answer while the bot posts the approval message: everything they need to chase it,
    should that message never appear (who can approve, until when, the id)."""
    line = (
        f":raised_hand: Your {held.typed} needs approval ({held.held_for}) by {held.approvers}: "
        f"nothing runs until it is approved. The request, with Approve and Deny, is posted in this channel "
        f"for them; it expires at {held.until} (in {held.wait})."
    )
    notes = (
        f"Held as {code(held.approval_id)} (`/ops status {held.approval_id}`). You get a direct message when it is "
        "approved, denied or expires."
    )
    return SlackMessage(
        text=f"Sent for approval: {held.typed}",
        blocks=(section(line), context(notes)),
        response_type="ephemeral",
        replace_original=False,
    )


def approval_expired(held: HeldCommand) -> SlackMessage:
    """The approval message once nobody decided in time: no buttons left, nothing ran, what to do instead."""
    requester = mention(held.requester)
    line = (
        f":hourglass: {requester}'s {held.typed} expired at {held.until} without a decision: nothing was run. "
        f"{requester}, run it again to ask anew."
    )
    notes = f"{held.held_for_first} asked for approval by {held.approvers} · held as {code(held.approval_id)}"
    return SlackMessage(
        text=f"Approval request expired: {held.typed} was not run",
        blocks=(section(line), context(notes)),
        response_type="in_channel",
        replace_original=True,
    )


def approval_reminder(held: HeldCommand, now: int) -> SlackMessage:
    """Halfway to the expiry, once, in the approval message's thread: the approvers are mentioned (notified)."""
    seconds = held.expires_at - now
    left = describe_duration(seconds // 60 * 60) if seconds >= 60 else "less than a minute"
    line = (
        f":bell: {held.approvers}: {mention(held.requester)}'s {held.typed} still waits for your approval "
        f"({held.held_for}). It expires at {held.until} (in {left}); nothing runs unless one of you "
        "presses Approve on the message above."
    )
    return SlackMessage(
        text=f"Reminder: {held.typed} waits for approval until {held.until}",
        blocks=(section(line),),
        response_type="in_channel",
    )


def decision_dm(held: HeldCommand, outcome: Outcome, by: str, at: int) -> SlackMessage:
    """To the requester, in a direct message: what became of their request, by whom, and what next."""
    where = f" in {channel(held.channel_id)}" if held.channel_id else ""
    status = f"`/ops status {held.approval_id}`"
    if outcome == "approved":
        line = f":white_check_mark: Your {held.typed}{where} was approved by {mention(by)} at {shown_at(at)}."
        follow = f"follow in {channel(held.channel_id)}" if held.channel_id else "follow where you typed it"
        next_step = f"It runs as {code(held.approval_id)}: its progress and result {follow}; {status} shows it."
    elif outcome == "denied":
        line = f":no_entry: Your {held.typed}{where} was denied by {mention(by)} at {shown_at(at)}: nothing was run."
        next_step = f"Ask {mention(by)} what would change their mind; running it again asks for a new approval."
    else:
        line = f":hourglass: Your {held.typed}{where} expired at {held.until} without a decision: nothing was run."
        next_step = "Run it again to ask anew (and perhaps tell the approvers it is coming)."
    return SlackMessage(
        text=line.split(" ", 1)[1],
        blocks=(section(line), context(next_step)),
        response_type="in_channel",  # the bot's own DM: nobody else reads it
    )
