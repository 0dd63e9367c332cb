"""Record each event in the ledger, then tell the user; idempotent per event (at-least-once delivery).

An event is reported only while it is the command's latest transition and has not been reported yet:
a duplicate of a reported event, a progress overtaken by a later one, or anything arriving after the
final result is recorded (or ignored) but never posted again. If posting fails the event stays
unreported, so the SQS retry of the same message posts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from services.notifier.delivery import ResponseUrlLimits, Route, deliver
from services.notifier.errors import SlackAuthError, SlackRejectedError, SlackUnavailableError
from services.notifier.messages import format_event
from services.notifier.ports import SlackPort
from shared.events.envelope import MalformedEventError, parse_eventbridge_json
from shared.events.models import AnyEvent, CommandAccepted, CommandProgress, CommandRequested
from shared.ledger.errors import LedgerUnavailableError
from shared.ledger.models import event_key
from shared.ledger.port import Ledger
from shared.logs import bind_command_id

logger = logging.getLogger(__name__)

Outcome = (
    Route
    | Literal["recorded", "superseded", "already notified"]
    | Literal["dropped: malformed", "dropped: slack auth", "dropped: slack rejected"]
)


@dataclass
class NotifierDeps:
    ledger: Ledger
    slack: SlackPort
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    limits: ResponseUrlLimits = field(default_factory=ResponseUrlLimits)
    max_receive_count: int = 5
    """The queue's redrive `maxReceiveCount`: the attempt that reaches it is logged as lost if it fails."""


def handle_body(body: str, deps: NotifierDeps, *, last_attempt: bool = False) -> Outcome:
    """One SQS message body. Returns normally to acknowledge it; raises to have SQS deliver it again.

    Malformed messages and permanent Slack refusals are acknowledged (retrying cannot help) and logged;
    `SlackUnavailableError` and `LedgerUnavailableError` propagate so the batch reports a failure.
    """
    try:
        event = parse_eventbridge_json(body)
    except MalformedEventError as error:
        logger.error("dropping a malformed message", extra={"problem": str(error), "size": len(body)})
        return "dropped: malformed"
    bind_command_id(event.command_id)
    try:
        return handle_event(event, deps)
    except SlackAuthError as error:
        logger.critical(
            "SLACK BOT TOKEN INVALID OR REVOKED: the user was not notified; fix the token",
            extra={"command_id": event.command_id, "problem": str(error)},
        )
        return "dropped: slack auth"
    except SlackRejectedError as error:
        logger.error("Slack refused the message", extra={"command_id": event.command_id, "problem": str(error)})
        return "dropped: slack rejected"
    except (SlackUnavailableError, LedgerUnavailableError) as error:
        # The id is in the text as well as in `extra`: local runs log plain text, which drops the extra fields.
        details = {"command_id": event.command_id, "command": event.command, "problem": str(error)}
        if last_attempt:
            logger.error(
                "NOTIFICATION LOST for %s %s: the last attempt failed (%s); the message goes to the notifier DLQ "
                "- redrive it once the cause is fixed (slashops dlq redrive notifier)",
                event.command,
                event.command_id,
                error,
                extra=details,
            )
        else:
            logger.warning(
                "%s %s not notified yet, will retry: %s", event.command, event.command_id, error, extra=details
            )
        raise


def handle_event(event: AnyEvent, deps: NotifierDeps) -> Outcome:
    now = deps.now()
    entry = deps.ledger.record(event, now=now).entry
    if isinstance(event, CommandRequested):
        return "recorded"  # the ingress already answered the slash command itself
    key = event_key(event)
    if entry.last_event_key != key:
        logger.info("event superseded, not posted", extra={"command_id": event.command_id, "event": key})
        return "superseded"
    if entry.notified_key == key:
        return "already notified"
    delivery = deliver(
        format_event(event),
        interim=isinstance(event, CommandAccepted | CommandProgress),
        entry=entry,
        reply_to=event.reply_to,
        slack=deps.slack,
        ledger=deps.ledger,
        now=now,
        limits=deps.limits,
    )
    bot_message = (delivery.channel, delivery.ts) if delivery.ts else None
    deps.ledger.mark_notified(event.command_id, key, route=delivery.route, bot_message=bot_message)
    logger.info("notified", extra={"command_id": event.command_id, "event": key, "route": delivery.route})
    return delivery.route
