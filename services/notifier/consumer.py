"""Message → use case: one SQS body (an EventBridge event) is parsed, routed through `USE_CASES`, and its errors
decided here: acknowledge (return) or have SQS deliver it again (raise).

Malformed messages and permanent Slack refusals are acknowledged (retrying cannot help) and logged;
`SlackUnavailableError` and `LedgerUnavailableError` propagate so the batch reports a failure, and the last
attempt before the DLQ says so loudly, with the command id in the text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from services.notifier.approvals import post_request, remind, tell_decision
from services.notifier.errors import SlackAuthError, SlackRejectedError, SlackUnavailableError
from services.notifier.home import refresh_after
from services.notifier.notifying import Outcome, record, record_and_notify
from shared.events.envelope import MalformedEventError, parse_eventbridge_json
from shared.events.models import (
    AnyEvent,
    ApprovalDecided,
    ApprovalReminded,
    ApprovalRequested,
    CommandAccepted,
    CommandCancelled,
    CommandFailed,
    CommandProgress,
    CommandRefused,
    CommandRejected,
    CommandRequested,
    CommandSucceeded,
    ResultEvent,
)
from shared.ledger.errors import LedgerUnavailableError
from shared.ledger.models import event_key
from shared.logs import bind_command_id

if TYPE_CHECKING:
    from services.notifier.deps import NotifierDeps

logger = logging.getLogger(__name__)

UseCase = Callable[[Any, "NotifierDeps"], Outcome]
"""A use case takes the event type it is registered for (the key) and the notifier's dependencies."""

USE_CASES: Mapping[str, UseCase] = {
    CommandRequested.detail_type: record,
    CommandRefused.detail_type: record,
    ApprovalRequested.detail_type: post_request,  # the approval message, by the bot (approvals.py)
    ApprovalDecided.detail_type: tell_decision,
    ApprovalReminded.detail_type: remind,
    CommandAccepted.detail_type: record_and_notify,
    CommandProgress.detail_type: record_and_notify,
    CommandSucceeded.detail_type: record_and_notify,
    CommandFailed.detail_type: record_and_notify,
    CommandCancelled.detail_type: record_and_notify,
    CommandRejected.detail_type: record_and_notify,
}

Dropped = Literal["dropped: malformed", "dropped: slack auth", "dropped: slack rejected"]


def handle_body(body: str, deps: NotifierDeps, *, last_attempt: bool = False) -> Outcome | Dropped:
    """One SQS message body. Returns normally to acknowledge it; raises to have SQS deliver it again."""
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
        _gave_up(event, deps)
        return "dropped: slack auth"
    except SlackRejectedError as error:
        logger.error("Slack refused the message", extra={"command_id": event.command_id, "problem": str(error)})
        _gave_up(event, deps)
        return "dropped: slack rejected"
    except (SlackUnavailableError, LedgerUnavailableError) as error:
        _not_notified(event, error, last_attempt=last_attempt)
        if last_attempt:
            _gave_up(event, deps)
        raise


def _gave_up(event: AnyEvent, deps: NotifierDeps) -> None:
    """The ledger learns that this event's post failed for good (until a redrive): `status` says "not reported"
    only then, never while a post is under way or being retried. Best effort: the ledger may be what failed."""
    if not isinstance(event, ResultEvent):
        return
    try:
        deps.ledger.mark_undelivered(event.command_id, event_key(event))
    except LedgerUnavailableError as error:
        logger.warning(
            "could not record the failed delivery", extra={"command_id": event.command_id, "problem": str(error)}
        )


def handle_event(event: AnyEvent, deps: NotifierDeps) -> Outcome:
    """The registered use case for this event's type; then the Home of whoever it concerns is refreshed (`home`)."""
    outcome = USE_CASES[event.detail_type](event, deps)
    refresh_after(event, deps)
    return outcome


def _not_notified(event: AnyEvent, error: Exception, *, last_attempt: bool) -> None:
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
        logger.warning("%s %s not notified yet, will retry: %s", event.command, event.command_id, error, extra=details)
