"""The ingress pipeline: command exists → caller allowed → arguments valid → answer or publish."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.local_commands import Invocation, LocalHandler, default_local_handlers
from chalicelib.slack_request import SlashCommandRequest
from shared.commands.catalog import CATALOG, Catalog
from shared.commands.parser import ParsedCommand, parse_arguments, resolve_command
from shared.commands.spec import CommandSpec
from shared.commands.tokenizer import normalize, tokenize
from shared.config.access import decide
from shared.config.deploy import branch_characters_from
from shared.config.model import SlashopsConfig
from shared.errors import AccessDeniedError, NotQueuedError, SlashopsError
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget, new_command_id
from shared.events.publisher import EventPublisher, PublishError
from shared.ledger.port import LedgerReader
from shared.slack.blocks import SlackMessage
from shared.slack.messages import acknowledgement, error_message, help_for

logger = logging.getLogger(__name__)


class ConfigProvider(Protocol):
    """The current configuration; raises `ConfigurationError` when it is missing or invalid."""

    def get(self) -> SlashopsConfig: ...


@dataclass
class IngressDeps:
    config: ConfigProvider
    publisher: EventPublisher
    catalog: Catalog = CATALOG
    local_handlers: Mapping[str, LocalHandler] = field(default_factory=default_local_handlers)
    new_id: Callable[[], str] = new_command_id
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ledger: LedgerReader | None = None
    """Read by `status` and `history`; None answers them with a configuration error."""


def handle_command(request: SlashCommandRequest, deps: IngressDeps) -> SlackMessage:
    """Everything after the signature check; every refusal becomes the same kind of message."""
    try:
        return _dispatch(request, deps)
    except SlashopsError as error:
        logger.info(
            "command refused",
            extra={"refusal": type(error).__name__, "user_id": request.user_id, "channel_id": request.channel_id},
        )
        return error_message(error)


def _dispatch(request: SlashCommandRequest, deps: IngressDeps) -> SlackMessage:
    spec, rest = resolve_command(deps.catalog, tokenize(request.text))
    if any(token in ("--help", "-h") for token in rest):
        return help_for(spec)
    if not spec.open_to_all:
        _authorize(spec, request, deps.config.get())
    parsed = parse_arguments(spec, rest, extra_characters=branch_characters_from(deps.config.get))
    if spec.handled_by == "ingress":
        return deps.local_handlers[spec.name](_invocation(parsed, request, deps))
    return _publish(parsed, request, deps)


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


def _publish(parsed: ParsedCommand, request: SlashCommandRequest, deps: IngressDeps) -> SlackMessage:
    event = build_event(parsed, request, command_id=deps.new_id(), now=deps.now())
    try:
        deps.publisher.publish([event])
    except PublishError as error:
        logger.error("command not queued", extra={"command_id": event.command_id, "problem": str(error)})
        raise NotQueuedError(
            f"`{parsed.spec.name}` could not be handed to its service, so nothing was started.",
            hint="This is on our side, not yours: please try again in a minute.",
        ) from error
    logger.info("command published", extra={"command_id": event.command_id, "command": parsed.spec.name})
    return acknowledgement(parsed.spec, event.arguments, event.command_id)


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
