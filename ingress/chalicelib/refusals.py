"""Refused commands in the audit ledger: the ingress publishes a `CommandRefused`, the notifier records it.

A refusal is anything the ingress turns down before a use case runs: an unknown command, text it cannot read,
a caller the access rules refuse, invalid arguments, a broken configuration. Recording it is best effort within
the request's time budget: if the bus does not take it in time, the refusal is logged at WARNING with its
fields, and the user's answer (already decided) is neither delayed past the budget nor changed.

Its command id is derived from the signed request, so a replayed refused request is the same ledger entry: the
ledger writes a refusal once, however often it is published.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from chalicelib.deps import IngressDeps
from chalicelib.models import VerifiedRequest
from shared.errors import AccessDeniedError, ConfigurationError, SlashopsError, UnknownCommandError, UsageError
from shared.replay import SignedRequest

if TYPE_CHECKING:  # a refusal's model is imported by the first refusal: a cold start that runs a command needs none
    from shared.events.models import CommandRefused, RefusalDecision

logger = logging.getLogger(__name__)
RECORD_SECONDS = 0.5
"""At most this much of the answer's budget for publishing a refusal."""
MIN_SECONDS_TO_RECORD = 0.1
"""Less than this left, and the refusal is only logged: the answer must not be late for an audit line."""
DECISIONS: tuple[tuple[type[SlashopsError], RefusalDecision], ...] = (
    (UnknownCommandError, "unknown command"),
    (AccessDeniedError, "not allowed"),
    (UsageError, "invalid arguments"),
    (ConfigurationError, "misconfigured"),
)


def refusal_id(signed: SignedRequest) -> str:
    """12 hex characters from the request's signature hash: the same request always gets the same id."""
    return hashlib.sha256(f"refused:{signed.key}".encode()).hexdigest()[:12]


def decision_for(error: SlashopsError) -> RefusalDecision | None:
    """What kind of refusal `error` is; None for what is not a refusal (not queued, a replay, a failed lookup)."""
    return next((decision for kind, decision in DECISIONS if isinstance(error, kind)), None)


def refusal_event(
    verified: VerifiedRequest,
    text: str,
    *,
    decision: RefusalDecision,
    reason: str,
    rule: int | None = None,
    deps: IngressDeps,
) -> CommandRefused:
    """`text` is the request's normalized text; the command is its first word, as typed (bounded)."""
    from shared.events.models import MAX_REFUSED_COMMAND, MAX_REFUSED_REASON, MAX_REFUSED_TEXT, CommandRefused

    request, now = verified.request, deps.now()
    words = text.split(maxsplit=1)
    return CommandRefused(
        command_id=refusal_id(verified.signed),
        command=_bounded(words[0] if words else "help", MAX_REFUSED_COMMAND),
        actor=request.actor(),
        place=request.place(),
        text=_bounded(text, MAX_REFUSED_TEXT),
        decision=decision,
        reason=_bounded(reason, MAX_REFUSED_REASON),
        rule=rule,
        requested_at=now,
        occurred_at=now,
    )


def record_refusal(verified: VerifiedRequest, text: str, error: SlashopsError, shown: str, deps: IngressDeps) -> None:
    """Publish the refusal for the ledger, best effort; `shown` is the (mrkdwn) reason the user reads."""
    decision = decision_for(error)
    if decision is None:
        return
    rule = error.rule if isinstance(error, AccessDeniedError) else None
    event = refusal_event(verified, text, decision=decision, reason=shown, rule=rule, deps=deps)
    deadline = verified.deadline.within(RECORD_SECONDS)
    fields = _fields(event)
    if deadline.remaining() < MIN_SECONDS_TO_RECORD:
        logger.warning("refusal not recorded in the ledger: out of time", extra=fields)
        return
    try:
        deps.publisher.publish([event], deadline=deadline)
    except Exception as error:  # any failure: the audit is best effort, the user's answer is already decided
        logger.warning("refusal not recorded in the ledger (%s)", type(error).__name__, extra=fields)
        return
    logger.info("refusal published for the ledger", extra=fields)


def _fields(event: CommandRefused) -> dict[str, object]:
    """Everything the ledger would have held (there is no token or response_url in the event to leak)."""
    return {
        "refusal_id": event.command_id,
        "command": event.command,
        "user_id": event.actor.user_id,
        "user_name": event.actor.user_name,
        "channel_id": event.place.channel_id,
        "channel_name": event.place.channel_name,
        "text": event.text,
        "decision": event.decision,
        "rule": event.rule,
        "reason": event.reason,
    }


def _bounded(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
