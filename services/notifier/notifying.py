"""The notifier's use cases: record an event in the ledger, and (for result events) tell the user in Slack.

Idempotent per event (EventBridge and SQS deliver at least once): an event is reported only while it is the
command's latest transition and has not been reported yet. A duplicate of a reported event, a progress overtaken by
a later one, or anything arriving after the final result is recorded (or ignored) but never posted again. If posting
fails the event stays unreported, so the SQS retry of the same message posts it. An announced command's events go
to its channel message and thread instead (`announcing`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from services.notifier.announcing import announce, announces
from services.notifier.delivery import Route, deliver
from services.notifier.messages import format_event
from shared.events.models import (
    CommandAccepted,
    CommandFailed,
    CommandProgress,
    CommandRefused,
    CommandRejected,
    CommandRequested,
    Event,
    ResultEvent,
)
from shared.ledger.models import event_key
from shared.metrics import command_emission, emit_quietly

if TYPE_CHECKING:
    from services.notifier.deps import NotifierDeps

logger = logging.getLogger(__name__)

Outcome = Route | Literal["thread", "recorded", "superseded", "already notified", "not shown"]
"""Where an event was reported; "not shown": Slack could not be told anywhere (logged at ERROR)."""


def record(event: CommandRequested | CommandRefused, deps: NotifierDeps) -> Outcome:
    """A `CommandRequested` or `CommandRefused`: the ingress already answered in Slack itself, so only the ledger
    learns it (a refusal carries no reply target: never posted, even by mistake). Approval events: `approvals`."""
    if deps.ledger.record_only(event, now=deps.now()):
        count(event, deps)
    return "recorded"


def count(event: Event, deps: NotifierDeps) -> None:
    """The metrics an event adds (`shared.metrics`); called only when the ledger applied it, so a redelivered
    result or refusal, or one that came too late to change the command, is not counted twice."""
    emit_quietly(deps.metrics, command_emission(event))


def record_and_notify(event: ResultEvent, deps: NotifierDeps) -> Outcome:
    """A result event: recorded first (so `/ops status` is right even if Slack is down), then reported once."""
    now = deps.now()
    recorded = deps.ledger.record(event, now=now)
    entry = recorded.entry
    if recorded.applied:
        count(event, deps)
    key = event_key(event)
    if entry.last_event_key != key:
        logger.info("event superseded, not posted", extra={"command_id": event.command_id, "event": key})
        return "superseded"
    if entry.notified_key == key:
        return "already notified"
    if not _posted(event):  # a scheduled run's progress, or its success unless `notify: always`: the ledger only
        deps.ledger.mark_notified(event.command_id, key, route="recorded")
        return "recorded"
    if announces(event, entry) and announce(event, entry, deps, now):
        deps.ledger.mark_notified(event.command_id, key, route="thread")
        logger.info("notified", extra={"command_id": event.command_id, "event": key, "route": "thread"})
        return "thread"
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


def _posted(event: ResultEvent) -> bool:
    """Whether the reply target wants this event posted (`ReplyTarget.posts`)."""
    match event.reply_to.posts:
        case "final":
            return not isinstance(event, CommandAccepted | CommandProgress)
        case "failures":
            return isinstance(event, CommandFailed | CommandRejected)
    return True
