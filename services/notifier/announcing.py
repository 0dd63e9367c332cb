"""Announced commands: one channel message per command, its progress in that message's thread.

An in-channel command whose service says what it does (`ResultEvent.activity`: a deploy, a restore) is not reported
through the response_url. Its first event posts one bot message in the channel ("@alice is deploying `main` of
*acme* to *production*"), every event is a reply in that message's thread (`thread_ts`), and the message itself is
updated (`chat.update`) with the latest state: finally the outcome and the duration. Cancel while it runs, Retry
after a failure (`messages.parent_message`).

At-least-once delivery, and events of one command handled in parallel, must still make exactly one channel
message. Its place (`parent_ts`) is recorded in the ledger, and posting it is claimed first
(`Ledger.claim_parent`, a conditional write): a delivery that finds it claimed by another, recently, is retried
through SQS (`ParentPendingError`) and then threads under it. Chosen for a crash between posting and recording:
the claim goes stale after `PARENT_LEASE` and a redelivery posts the message again — a possible second channel
message, never a command the channel never hears about (Slack's `chat.postMessage` has no idempotency key).
Thread replies are de-duplicated like every notification (`notified_key`: a redelivered event is not posted
again); only a crash between a reply and `mark_notified` repeats that reply.

A rejection before anything ran (no channel message yet) is answered like any other command's result, and so is
everything when the bot cannot post in the channel (`NO_PARENT` recorded: no thread, the response_url is used), and
an event whose channel message can no longer be edited (deleted, `message_not_found`).

Known limit: two events of one command handled at the same moment by two deliveries may update the channel message
in either order (Slack's `chat.update` has no condition), so for a moment it can show an older state; the final
event is always the last thread reply posted by its own delivery, and `/ops status` reads the ledger.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from services.notifier.errors import ChannelUnavailableError, ParentPendingError, SlackRejectedError
from services.notifier.messages import parent_message, thread_reply
from shared.events.models import CommandRejected, ResultEvent
from shared.ledger.models import NO_PARENT, LedgerEntry

if TYPE_CHECKING:
    from services.notifier.deps import NotifierDeps

logger = logging.getLogger(__name__)

PARENT_LEASE = timedelta(seconds=60)
"""How long a claim to post the channel message holds before another delivery may post it (far above one post)."""


def announces(event: ResultEvent, entry: LedgerEntry) -> bool:
    """Whether this event goes to the command's channel message and thread."""
    if not event.activity or event.reply_to.visibility != "in_channel" or entry.parent_ts == NO_PARENT:
        return False
    return entry.has_parent or not isinstance(event, CommandRejected)


def announce(event: ResultEvent, entry: LedgerEntry, deps: NotifierDeps, now: datetime) -> bool:
    """Post or update the channel message and reply in its thread; False if the bot cannot post in the channel
    (the caller then reports the event like any other)."""
    message = parent_message(event, entry, now)
    if entry.has_parent:
        try:
            deps.slack.update(entry.parent_channel, entry.parent_ts, message)
        except SlackRejectedError as error:  # deleted by someone, or too old to edit: never lose the event
            logger.warning(
                "cannot update the channel message: reporting as usual",
                extra={"command_id": event.command_id, "problem": str(error)},
            )
            return False
        channel, ts = entry.parent_channel, entry.parent_ts
    else:
        parent = _post_parent(event, entry, deps, now)
        if parent is None:
            return False
        channel, ts = parent
    try:
        deps.slack.post(channel, thread_reply(event), thread_ts=ts)
    except SlackRejectedError as error:  # the thread is gone: the event still reaches the user
        logger.warning(
            "cannot reply in the thread: reporting as usual",
            extra={"command_id": event.command_id, "problem": str(error)},
        )
        return False
    return True


def _post_parent(event: ResultEvent, entry: LedgerEntry, deps: NotifierDeps, now: datetime) -> tuple[str, str] | None:
    ledger, command_id = deps.ledger, event.command_id
    if not ledger.claim_parent(command_id, now=now, stale_after=PARENT_LEASE):
        current = ledger.get(command_id)
        if current is not None and current.has_parent:  # posted meanwhile: bring it up to date
            deps.slack.update(current.parent_channel, current.parent_ts, parent_message(event, current, now))
            return current.parent_channel, current.parent_ts
        if current is not None and current.parent_ts == NO_PARENT:
            return None
        raise ParentPendingError(f"the channel message of {command_id} is being posted by another delivery")
    channel = event.reply_to.channel_id
    try:
        ts = deps.slack.post(channel, parent_message(event, entry, now))
    except ChannelUnavailableError as error:
        logger.warning(
            "bot cannot post in the channel: no thread, reporting as usual",
            extra={"command_id": command_id, "problem": str(error)},
        )
        ledger.record_parent(command_id, "", NO_PARENT)
        return None
    ledger.record_parent(command_id, channel, ts)
    logger.info("announced in the channel", extra={"command_id": command_id, "channel": channel})
    return channel, ts
