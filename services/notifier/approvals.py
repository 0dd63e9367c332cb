"""Approvals, the Slack side: the approval message, its end, its reminder, and the requester's direct messages.

- `ApprovalRequested` → the approval message (`shared.slack.approvals.approval_request`, Approve/Deny) posted by
  the bot in the requester's channel, its place kept in the ledger as the command's channel message
  (`claim_parent`/`record_parent`, as `announcing` does: one message, however often the event is delivered). The
  command runs under the same id once approved, so an announced command (a deploy) then shows its progress in that
  same message and thread. When the bot cannot post there (not in the channel), the message goes through the
  requester's response_url instead (in the channel, buttons working) and `NO_PARENT` is recorded: that message cannot
  be edited or threaded later (no `ts`), so an expiry is told to the requester only, and no reminder is posted.
- `ApprovalDecided` → the requester gets a DM (approved / denied / expired, by whom, what next). Expired by the
  sweeper (`decided_by` empty) → the approval message is also edited: buttons gone, "expired — nothing was run". A
  click after the expiry already replaced the message through its own response_url: only the DM is added.
- `ApprovalReminded` → one reply in the approval message's thread, mentioning the approvers.

Each is recorded (the ledger) before Slack is told, and reported once: `notified_key` holds the event reported last
(a redelivery of it is acknowledged without a post), as for result events.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from services.notifier.announcing import PARENT_LEASE
from services.notifier.errors import (
    ChannelUnavailableError,
    ParentPendingError,
    ResponseUrlRefusedError,
    ResponseUrlUnusableError,
    SlackRejectedError,
)
from services.notifier.notifying import Outcome, count
from shared.events.models import ApprovalDecided, ApprovalReminded, ApprovalRequested
from shared.ledger.models import NO_PARENT, LedgerEntry, event_key
from shared.slack.approvals import (
    HeldCommand,
    approval_expired,
    approval_reminder,
    approval_request,
    decision_dm,
    split_approvers,
)
from shared.slack.blocks import SlackMessage

if TYPE_CHECKING:
    from services.notifier.deps import NotifierDeps

logger = logging.getLogger(__name__)


def post_request(event: ApprovalRequested, deps: NotifierDeps) -> Outcome:
    """The approval message, once, in the requester's channel (or through their response_url)."""
    now = deps.now()
    recorded = deps.ledger.record(event, now=now)
    entry = recorded.entry
    if recorded.applied and not entry.parent_ts and entry.parent_claimed_at is None:  # not a retry of a failed post
        count(event, deps)
    if entry.parent_ts or event.reply_to is None:
        return "already notified" if entry.parent_ts else "recorded"
    if entry.approval or now >= event.expires_at:  # decided or expired before this event was delivered
        logger.info("approval message not posted: decided already", extra={"command_id": event.command_id})
        return "recorded"
    if not deps.ledger.claim_parent(event.command_id, now=now, stale_after=PARENT_LEASE):
        current = deps.ledger.get(event.command_id)
        if current is not None and current.parent_ts:
            return "already notified"
        raise ParentPendingError(f"the approval message of {event.command_id} is being posted by another delivery")
    message = approval_request(_requested(event))
    channel = event.reply_to.channel_id
    try:
        ts = deps.slack.post(channel, message)
    except ChannelUnavailableError as error:
        logger.warning(
            "bot cannot post the approval message in the channel: through the response_url (it cannot be edited)",
            extra={"command_id": event.command_id, "problem": str(error)},
        )
        deps.ledger.record_parent(event.command_id, "", NO_PARENT)
        return _through_response_url(event, message, deps, now)
    deps.ledger.record_parent(event.command_id, channel, ts)
    logger.info("approval message posted", extra={"command_id": event.command_id, "channel": channel})
    return "channel"


def _through_response_url(
    event: ApprovalRequested, message: SlackMessage, deps: NotifierDeps, now: datetime
) -> Outcome:
    url = event.reply_to.response_url if event.reply_to is not None else ""
    if url and deps.ledger.claim_response_url_use(event.command_id, now=now, max_uses=deps.limits.max_uses):
        try:
            deps.slack.respond(url, message)
            return "response_url"
        except (ResponseUrlUnusableError, ResponseUrlRefusedError) as error:
            problem = str(error)
    else:
        problem = "no response_url use left"
    logger.error(
        "APPROVAL MESSAGE NOT SHOWN for %s: the bot cannot post in the channel and the response_url failed (%s); "
        "the requester's own answer names the approvers — invite the bot to the channel",
        event.command_id,
        problem,
        extra={"command_id": event.command_id},
    )
    return "not shown"


def tell_decision(event: ApprovalDecided, deps: NotifierDeps) -> Outcome:
    """The requester's DM; for an expiry nobody clicked on, the approval message edited first (an edit repeats
    harmlessly on a redelivery, a DM would not)."""
    now = deps.now()
    entry = deps.ledger.record(event, now=now).entry
    key = event_key(event)
    if entry.notified_key == key:
        return "already notified"
    held = _decided(event, entry)
    if event.decision == "expired" and not event.decided_by and entry.has_parent:
        try:
            deps.slack.update(entry.parent_channel, entry.parent_ts, approval_expired(held))
        except SlackRejectedError as error:  # deleted by someone: the DM still goes
            logger.warning(
                "cannot edit the approval message", extra={"command_id": event.command_id, "problem": str(error)}
            )
    if not held.requester:
        logger.warning("approval decided for an unknown requester: no DM", extra={"command_id": event.command_id})
        return "recorded"
    channel = deps.slack.open_dm(held.requester)
    deps.slack.post(channel, decision_dm(held, event.decision, event.decided_by, int(event.decided_at.timestamp())))
    deps.ledger.mark_notified(event.command_id, key, route="dm")
    logger.info("approval decision told", extra={"command_id": event.command_id, "decision": event.decision})
    return "dm"


def remind(event: ApprovalReminded, deps: NotifierDeps) -> Outcome:
    """One reply in the approval message's thread, mentioning the approvers (none without a thread to reply in)."""
    entry = deps.ledger.get(event.command_id)
    key = event_key(event)
    if entry is not None and entry.notified_key == key:
        return "already notified"
    if entry is None or entry.approval or not entry.has_parent:
        logger.info(
            "no reminder: decided already, or no approval message to reply under",
            extra={"command_id": event.command_id},
        )
        return "not shown"
    held = _reminded(event)
    now = int(deps.now().timestamp())
    deps.slack.post(entry.parent_channel, approval_reminder(held, now), thread_ts=entry.parent_ts)
    deps.ledger.mark_notified(event.command_id, key, route="thread")
    return "thread"


def _requested(event: ApprovalRequested) -> HeldCommand:
    users, groups = split_approvers(event.approvers)
    return HeldCommand(
        approval_id=event.command_id,
        text=event.text,
        requester=event.actor.user_id,
        channel_id=event.place.channel_id,
        rule=event.rule,
        approver_users=users,
        approver_groups=groups,
        requested_at=int(event.requested_at.timestamp()),
        expires_at=int(event.expires_at.timestamp()),
        held_because=event.held_because,
    )


def _reminded(event: ApprovalReminded) -> HeldCommand:
    users, groups = split_approvers(event.approvers)
    return HeldCommand(
        approval_id=event.command_id,
        text=event.text,
        requester=event.requester,
        channel_id=event.channel_id,
        rule=event.rule,
        approver_users=users,
        approver_groups=groups,
        requested_at=int(event.requested_at.timestamp()),
        expires_at=int(event.expires_at.timestamp()),
        held_because=event.held_because,
    )


def _decided(event: ApprovalDecided, entry: LedgerEntry) -> HeldCommand:
    """The event's facts, completed from the ledger (an event published before it carried them)."""
    users, groups = split_approvers(entry.approvers)
    expires = event.expires_at or entry.approval_expires_at or event.decided_at
    requested = entry.requested_at or entry.created_at
    return HeldCommand(
        approval_id=event.command_id,
        text=event.text or entry.text,
        requester=event.requester or entry.user_id,
        channel_id=event.channel_id or entry.channel_id,
        rule=entry.approval_rule or 0,
        approver_users=users,
        approver_groups=groups,
        requested_at=int(requested.timestamp()),
        expires_at=int(expires.timestamp()),
    )
