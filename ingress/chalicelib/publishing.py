"""Publishing a command for its consumer: once per signed request, saying only what is known.

The answer is one of three: queued (with the command id), not queued (nothing was started), or maybe queued
(the bus did not confirm in time: the command may run, so the user must not send it again yet).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.deps import IngressDeps
from chalicelib.models import Command
from shared.deadline import Deadline
from shared.errors import AlreadyReceivedError, CommandMayBeQueuedError, NotQueuedError
from shared.events.publisher import PublishError, PublishOutcomeUnknownError
from shared.events.requested import CommandRequested, Event
from shared.logs import bind_command_id
from shared.replay import ReplayGuardUnavailableError
from shared.slack.blocks import SlackMessage
from shared.slack.messages import acknowledgement
from shared.slack.mrkdwn import mention

if TYPE_CHECKING:
    from shared.ledger.models import LedgerEntry

logger = logging.getLogger(__name__)
REPLAY_CHECK_SECONDS = 1.0
"""At most this much of the budget for the replay guard when it runs on its own (a typed deploy's runs alongside
its lock check, both until `PUBLISH_SECONDS` before the deadline: `chalicelib.replays.check_and_claim`)."""
PUBLISH_SECONDS = 0.3
"""Kept for `PutEvents` whatever the guard takes: a guard that cannot answer before is a clean "not queued",
never a publish cut so short that the answer must be "may have been queued"."""
MIN_SECONDS_TO_QUEUE = 0.5
"""Less than this left, and the guard plus one `PutEvents` cannot both answer in time: do not start."""


def publish(command: Command, deps: IngressDeps) -> SlackMessage:
    """Publish once per signed request, and say only what is known: queued, not queued, or maybe queued."""
    event = build_event(command, command_id=command.claimed or _new_id(command, deps), now=deps.now())
    name, command_id = command.name, event.command_id
    bind_command_id(command_id)
    if command.claimed is None:  # else claimed alongside its check (`chalicelib.replays.check_and_claim`)
        claim_first_sighting(command, command_id, deps)
    try:
        deps.publisher.publish([event], deadline=command.verified.deadline)
    except PublishOutcomeUnknownError as error:
        logger.error("command may have been queued", extra={"command_id": command_id, "problem": str(error)})
        raise CommandMayBeQueuedError(
            f"`{name}` may have been queued as `{command_id}`: the event bus did not confirm it in time, "
            "so slashops cannot tell whether it will run.",
            hint=f"Do not send it again yet: that could run it twice. In a minute, `/ops status {command_id}` "
            "shows it if it was queued; if it still does not after a few minutes, it was most likely not queued.",
        ) from error
    except PublishError as error:
        logger.error("command not queued", extra={"command_id": command_id, "problem": str(error)})
        raise not_queued(name) from error
    logger.info("command published", extra={"command_id": command_id, "command": name})
    return acknowledgement(command.parsed.spec, event.arguments, command_id)


def _new_id(command: Command, deps: IngressDeps) -> str:
    granted = command.verified.approved  # an approved request runs as the id it was held as
    return granted.command_id if granted else deps.new_id()


def claim_first_sighting(command: Command, command_id: str, deps: IngressDeps) -> None:
    """A replayed request is answered with the first one's id; if the guard cannot tell, fail closed."""
    name, deadline = command.name, command.verified.deadline
    if deadline.remaining() < MIN_SECONDS_TO_QUEUE:
        logger.error("command not queued: out of time", extra={"command_id": command_id})
        raise not_queued(name)
    try:
        earlier = deps.replays.first_sighting(
            command.verified.signed,
            command_id,
            deadline=deadline.short_of(PUBLISH_SECONDS).within(REPLAY_CHECK_SECONDS),
        )
    except ReplayGuardUnavailableError as error:
        logger.error("command not queued: replay guard unavailable", extra={"command_id": command_id})
        raise not_queued(name) from error
    if earlier is not None:
        raise already_received(command, earlier, deps)


def already_received(command: Command, earlier: str, deps: IngressDeps) -> AlreadyReceivedError:
    """The answer to a replay of a published (or held) command: the first sighting's id. For a button (every click
    on it is one request) the clicker did not send anything before: say who pressed it first and what it did."""
    name = command.name
    logger.warning("replayed request refused", extra={"command_id": earlier, "command": name})
    if command.verified.signed.once_per:
        return _already_pressed(command, earlier, deps)
    return AlreadyReceivedError(
        f"This request was already received as `{earlier}`; it is not run again.",
        hint=f"`/ops status {earlier}` shows how it went. To run `{name}` once more, type the command again.",
    )


def _already_pressed(command: Command, earlier: str, deps: IngressDeps) -> AlreadyReceivedError:
    entry = _first_press(earlier, deps)
    sent = f"`{command.name}` was sent as `{earlier}`"
    if entry is None or not entry.user_id:
        said = f"This button was already pressed: {sent}."
    elif entry.user_id == command.request.user_id:
        said = f"You already pressed this button: {sent} ({entry.shown_state})."
    else:
        said = f"{mention(entry.user_id)} already pressed this button: {sent} ({entry.shown_state})."
    return AlreadyReceivedError(
        f"{said} Your click sent nothing again.", hint=f"`/ops status {earlier}` shows how it went."
    )


def _first_press(command_id: str, deps: IngressDeps) -> LedgerEntry | None:
    """Who pressed first, from the ledger (best effort: it may not have recorded the command yet)."""
    if deps.ledger is None:
        return None
    try:
        return deps.ledger.get(command_id)
    except Exception as error:  # noqa: BLE001 - only the wording depends on it: any failure falls back to it
        logger.info("ledger not read for a repeated click (%s)", type(error).__name__)
        return None


def not_queued(name: str) -> NotQueuedError:
    return NotQueuedError(
        f"`{name}` could not be handed to its service, so nothing was started.",
        hint="This is on our side, not yours: please try again in a minute.",
    )


def build_event(command: Command, *, command_id: str, now: datetime) -> CommandRequested:
    """The typed event; its `text` is the text as normalized once for parsing, not normalized again."""
    request, spec, granted = command.request, command.parsed.spec, command.verified.approved
    fields = {
        "command_id": command_id,
        "command": spec.name,
        "arguments": dict(command.parsed.arguments),
        "actor": request.actor_fields(),
        "place": request.place_fields(),
        "reply_to": {
            "response_url": request.response_url,
            "channel_id": request.channel_id,
            "user_id": request.user_id,
            "visibility": spec.visibility,
            "keep_original": request.keep_original,
        },
        "requested_at": granted.requested_at if granted else now,
        "occurred_at": now,
        "long_running": spec.long_running,
        "text": command.text,
        "rule": command.rule,
        "approval": granted.approval if granted else None,
        "rollback_of": command.verified.rollback_of,
    }
    return CommandRequested.model_validate(fields)  # one validation, the nested models included


def record_history(event: Event, deps: IngressDeps, deadline: Deadline, *, what: str, **context: str) -> None:
    """An event for the ledger's history only (a lock, an approval), best effort: its own table holds the truth and
    it took effect whatever the bus says; a failure leaves a WARNING line instead."""
    try:
        deps.publisher.publish([event], deadline=deadline)
    except Exception as error:  # noqa: BLE001 - any failure: the history is best effort, the answer must not wait
        logger.warning(
            "%s not recorded in the ledger (%s)",
            what,
            type(error).__name__,
            extra={"command_id": event.command_id, **context},
        )
