"""Where a message goes: the command's response_url while it lasts, then the bot, then a DM.

Slack lets a response_url be used 5 times within 30 minutes of the command. The uses are claimed
atomically in the ledger *before* posting (a post that then fails still spends one: Slack may have
counted it), and the age is measured from when the command was typed, with a minute of margin so a post
in flight never lands after the deadline. Past either limit (or on a 404 from the URL, or without one) the bot posts:
public results to the command's channel, falling back to a DM when the bot cannot post there; ephemeral
messages straight to a DM, since a channel post would show everyone what only the caller was meant to see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.notifier.errors import (
    ChannelUnavailableError,
    ResponseUrlRefusedError,
    ResponseUrlUnusableError,
    SlackRejectedError,
)
from services.notifier.ports import SlackPort
from shared.events.models import ReplyTarget
from shared.ledger.models import LedgerEntry
from shared.ledger.port import Ledger
from shared.slack.blocks import SlackMessage

logger = logging.getLogger(__name__)

Route = Literal["response_url", "channel", "dm"]


@dataclass(frozen=True)
class ResponseUrlLimits:
    max_uses: int = 5
    max_age: timedelta = timedelta(minutes=30)
    margin: timedelta = timedelta(minutes=1)

    def young_enough(self, started_at: datetime, now: datetime) -> bool:
        return now - started_at < self.max_age - self.margin


@dataclass(frozen=True)
class Delivery:
    """Where a message went; for bot posts, the message's channel and `ts` (so progress can update it)."""

    route: Route
    channel: str = ""
    ts: str = ""


def deliver(
    message: SlackMessage,
    *,
    interim: bool,
    entry: LedgerEntry,
    reply_to: ReplyTarget,
    slack: SlackPort,
    ledger: Ledger,
    now: datetime,
    limits: ResponseUrlLimits,
) -> Delivery:
    if not reply_to.response_url:  # not kept (make run's saved state, tools/local/state.py): the bot it is
        logger.info("no response_url, posting with the bot", extra=_log(entry, ""))
    elif limits.young_enough(entry.started_at(), now) and ledger.claim_response_url_use(
        entry.command_id, now=now, max_uses=limits.max_uses
    ):
        try:
            slack.respond(reply_to.response_url, message)
            return Delivery("response_url")
        except (ResponseUrlUnusableError, ResponseUrlRefusedError) as error:  # nothing was delivered either way
            logger.warning("response_url unusable, posting with the bot", extra=_log(entry, str(error)))
    else:
        logger.info("response_url spent (5 uses or 30 minutes), posting with the bot", extra=_log(entry, ""))
    if interim and entry.bot_ts:
        return update_bot_message(message, slack=slack, entry=entry, reply_to=reply_to)
    return post_with_bot(message, reply_to=reply_to, slack=slack, entry=entry)


def update_bot_message(
    message: SlackMessage, *, slack: SlackPort, entry: LedgerEntry, reply_to: ReplyTarget
) -> Delivery:
    """Progress past the response_url edits the bot's previous progress message instead of piling up."""
    route: Route = "dm" if entry.bot_channel.startswith("D") else "channel"
    try:
        slack.update(entry.bot_channel, entry.bot_ts, message)
    except SlackRejectedError as error:  # deleted, too old to edit…: post a new one
        logger.info("cannot update the previous message, posting a new one", extra=_log(entry, str(error)))
        return post_with_bot(message, reply_to=reply_to, slack=slack, entry=entry)
    return Delivery(route, entry.bot_channel, entry.bot_ts)


def post_with_bot(message: SlackMessage, *, reply_to: ReplyTarget, slack: SlackPort, entry: LedgerEntry) -> Delivery:
    if message.response_type == "in_channel":
        try:
            return Delivery("channel", reply_to.channel_id, slack.post(reply_to.channel_id, message))
        except ChannelUnavailableError as error:
            logger.warning("bot cannot post in the channel, sending a DM", extra=_log(entry, str(error)))
    channel = slack.open_dm(reply_to.user_id)
    return Delivery("dm", channel, slack.post(channel, message))


def _log(entry: LedgerEntry, problem: str) -> dict[str, str]:
    return {"command_id": entry.command_id, "problem": problem}
