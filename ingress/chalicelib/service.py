"""The ingress pipeline: command exists → caller allowed → arguments valid → answer or publish."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.local_commands import Invocation, LocalHandler, default_local_handlers
from chalicelib.slack_request import SlashCommandRequest
from shared.commands.catalog import CATALOG, Catalog
from shared.commands.parser import ParsedCommand, parse_arguments, resolve_command
from shared.commands.spec import CommandSpec
from shared.commands.tokenizer import normalize, tokenize
from shared.config.access import decide
from shared.config.deploy import branch_characters_from
from shared.config.model import SlashopsConfig
from shared.config.port import ConfigPort
from shared.deadline import Deadline
from shared.errors import (
    AccessDeniedError,
    AlreadyReceivedError,
    CommandMayBeQueuedError,
    NotQueuedError,
    SlashopsError,
)
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget, new_command_id
from shared.events.publisher import EventPublisher, PublishError, PublishOutcomeUnknownError
from shared.ledger.port import LedgerReader
from shared.logs import bind_command_id, log_context
from shared.replay import MemoryReplayGuard, ReplayGuard, ReplayGuardUnavailableError, SignedRequest
from shared.slack.blocks import SlackMessage
from shared.slack.messages import acknowledgement, error_message, help_for

logger = logging.getLogger(__name__)
REPLAY_CHECK_SECONDS = 1.0
"""At most this much of the budget for the replay guard, so publishing keeps at least as much."""
MIN_SECONDS_TO_QUEUE = 0.5
"""Less than this left, and the guard plus one `PutEvents` cannot both answer in time: do not start."""


@dataclass
class IngressDeps:
    config: ConfigPort
    publisher: EventPublisher
    catalog: Catalog = CATALOG
    local_handlers: Mapping[str, LocalHandler] = field(default_factory=default_local_handlers)
    new_id: Callable[[], str] = new_command_id
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ledger: LedgerReader | None = None
    """Read by `status` and `history`; None answers them with a configuration error."""
    replays: ReplayGuard = field(default_factory=MemoryReplayGuard)
    """Remembers published requests' signatures; in AWS the DynamoDB one (bootstrap), shared by every instance."""


@dataclass(frozen=True)
class Arrival:
    """What the HTTP edge learned about a verified request: its signature, and when the answer is due."""

    signed: SignedRequest
    deadline: Deadline


def handle_command(request: SlashCommandRequest, deps: IngressDeps, arrival: Arrival) -> SlackMessage:
    """Everything after the signature check; every refusal becomes the same kind of message."""
    with log_context():
        try:
            return _dispatch(request, deps, arrival)
        except SlashopsError as error:
            logger.info(
                "command refused",
                extra={"refusal": type(error).__name__, "user_id": request.user_id, "channel_id": request.channel_id},
            )
            return error_message(error)


def _dispatch(request: SlashCommandRequest, deps: IngressDeps, arrival: Arrival) -> SlackMessage:
    spec, rest = resolve_command(deps.catalog, tokenize(request.text))
    if any(token in ("--help", "-h") for token in rest):
        return help_for(spec)
    if not spec.open_to_all:
        _authorize(spec, request, deps.config.get())
    parsed = parse_arguments(spec, rest, extra_characters=branch_characters_from(deps.config.get))
    if spec.handled_by == "ingress":
        return deps.local_handlers[spec.name](_invocation(parsed, request, deps))
    return _publish(parsed, request, deps, arrival)


def _invocation(parsed: ParsedCommand, request: SlashCommandRequest, deps: IngressDeps) -> Invocation:
    return Invocation(
        parsed=parsed,
        request=request,
        catalog=deps.catalog,
        ledger=deps.ledger,
        access_rules=lambda: deps.config.get().access,
        now=deps.now(),
    )


def _authorize(spec: CommandSpec, request: SlashCommandRequest, config: SlashopsConfig) -> None:
    decision = decide(
        config.access,
        command=spec.name,
        user_id=request.user_id,
        user_name=request.user_name,
        channel_id=request.channel_id,
        channel_name=request.channel_name,
    )
    if not decision.allowed:
        raise AccessDeniedError(
            decision.reason, hint=f"Ask an admin to add you to the `{spec.name}` rule of the slashops configuration."
        )


def _publish(parsed: ParsedCommand, request: SlashCommandRequest, deps: IngressDeps, arrival: Arrival) -> SlackMessage:
    """Publish once per signed request, and say only what is known: queued, not queued, or maybe queued."""
    event = build_event(parsed, request, command_id=deps.new_id(), now=deps.now())
    name, command_id = parsed.spec.name, event.command_id
    bind_command_id(command_id)
    _claim_first_sighting(name, command_id, deps.replays, arrival)
    try:
        deps.publisher.publish([event], deadline=arrival.deadline)
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
        raise _not_queued(name) from error
    logger.info("command published", extra={"command_id": command_id, "command": name})
    return acknowledgement(parsed.spec, event.arguments, command_id)


def _claim_first_sighting(name: str, command_id: str, replays: ReplayGuard, arrival: Arrival) -> None:
    """A replayed request is answered with the first one's id; if the guard cannot tell, fail closed."""
    if arrival.deadline.remaining() < MIN_SECONDS_TO_QUEUE:
        logger.error("command not queued: out of time", extra={"command_id": command_id})
        raise _not_queued(name)
    try:
        earlier = replays.first_sighting(
            arrival.signed, command_id, deadline=arrival.deadline.within(REPLAY_CHECK_SECONDS)
        )
    except ReplayGuardUnavailableError as error:
        logger.error("command not queued: replay guard unavailable", extra={"command_id": command_id})
        raise _not_queued(name) from error
    if earlier is not None:
        logger.warning("replayed request refused", extra={"command_id": earlier, "command": name})
        raise AlreadyReceivedError(
            f"This request was already received as `{earlier}`; it is not run again.",
            hint=f"`/ops status {earlier}` shows how it went. To run `{name}` once more, type the command again.",
        )


def _not_queued(name: str) -> NotQueuedError:
    return NotQueuedError(
        f"`{name}` could not be handed to its service, so nothing was started.",
        hint="This is on our side, not yours: please try again in a minute.",
    )


def build_event(
    parsed: ParsedCommand, request: SlashCommandRequest, *, command_id: str, now: datetime
) -> CommandRequested:
    return CommandRequested(
        command_id=command_id,
        command=parsed.spec.name,
        arguments=dict(parsed.arguments),
        actor=Actor(
            team_id=request.team_id,
            team_domain=request.team_domain,
            user_id=request.user_id,
            user_name=request.user_name,
        ),
        place=Place(channel_id=request.channel_id, channel_name=request.channel_name),
        reply_to=ReplyTarget(
            response_url=request.response_url,
            channel_id=request.channel_id,
            user_id=request.user_id,
            visibility=parsed.spec.visibility,
        ),
        requested_at=now,
        occurred_at=now,
        long_running=parsed.spec.long_running,
        text=normalize(request.text),
    )
