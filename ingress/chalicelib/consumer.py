"""From a verified request to its use case: command exists → caller allowed → arguments valid → use case.

The registry says what happens to each command: the ingress answers `help`, `status` and `history` itself
(`handled_by="ingress"`, by name); every other command is published for its consumer (`publishing.publish`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from chalicelib.deps import IngressDeps
from chalicelib.help import show_help
from chalicelib.history import show_history
from chalicelib.models import Command, VerifiedRequest
from chalicelib.publishing import publish
from chalicelib.refusals import record_refusal
from chalicelib.status import show_status
from shared.commands.parser import parse_arguments, resolve_command
from shared.commands.spec import CommandSpec
from shared.commands.tokenizer import normalize, split_words
from shared.config.access import decide
from shared.config.deploy import branch_characters_from
from shared.errors import AccessDeniedError, SlashopsError
from shared.logs import log_context
from shared.slack.blocks import SlackMessage
from shared.slack.messages import error_message, help_for, shown_error

logger = logging.getLogger(__name__)
HELP_FLAGS = frozenset({"--help", "-h"})

UseCase = Callable[[Command, IngressDeps], SlackMessage]
ANSWERED_HERE: Mapping[str, UseCase] = {"help": show_help, "status": show_status, "history": show_history}
"""The commands the ingress answers itself (`handled_by="ingress"`), by name."""


def use_case_for(spec: CommandSpec) -> UseCase:
    return ANSWERED_HERE[spec.name] if spec.handled_by == "ingress" else publish


def handle_command(verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    """Everything after the signature check; every refusal becomes the same kind of message."""
    with log_context():
        try:
            return _dispatch(verified, deps)
        except SlashopsError as error:
            request = verified.request
            logger.info(
                "command refused",
                extra={"refusal": type(error).__name__, "user_id": request.user_id, "channel_id": request.channel_id},
            )
            shown = shown_error(error)
            record_refusal(verified, normalize(request.text), error, shown.message, deps)  # refusals only
            return error_message(shown)


def _dispatch(verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    text = normalize(verified.request.text)  # once: parsed below, and carried by a published event
    spec, rest = resolve_command(deps.catalog, split_words(text))
    if any(token in HELP_FLAGS for token in rest):
        return help_for(spec)
    if not spec.open_to_all:
        _authorize(spec, verified, deps)
    parsed = parse_arguments(spec, rest, extra_characters=branch_characters_from(deps.config.get))
    return use_case_for(spec)(Command(parsed=parsed, text=text, verified=verified), deps)


def _authorize(spec: CommandSpec, verified: VerifiedRequest, deps: IngressDeps) -> None:
    request = verified.request
    decision = decide(
        deps.config.get().access,
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
