"""From a verified request to its use case: command exists → caller may run it here → arguments valid → caller
may run it with these arguments → use case.

Rules on arguments are applied to the parsed values, defaults included (an omitted `--env` counts as its default).

What happens to each command is its declaration's (`shared/commands/catalog.py`): the ingress answers the
commands declared `handled_by="ingress"` with their `runs`; every other command is published for its consumer
(`publishing.publish`) after its `holds` step (a deploy into a frozen environment is refused, or held for an
override, here) and its `before_publishing` check (a deploy into a locked target is refused here), or
first confirmed (`confirm`: a restore), unless an access rule holds it for approval (`approving.publish_or_ask`:
held, and published once approved). Each use case is imported on its first use (`shared.commands.references`).

Every signed request that changes state passes the replay guard once (`chalicelib.replays`): a published one when
it is published (alongside its check, for a deploy), one the ingress answers (`changes_state`: `lock`, `unlock`)
before it acts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalicelib.access import admit, authorize
from chalicelib.approving import publish_or_ask
from chalicelib.deps import IngressDeps
from chalicelib.models import Command, VerifiedRequest
from chalicelib.refusals import record_refusal
from chalicelib.replays import check_and_claim, claim_before_acting
from shared.commands.parser import ParsedCommand, parse_arguments, resolve_command
from shared.commands.references import resolve
from shared.commands.spec import CommandSpec
from shared.commands.tokenizer import normalize, split_words
from shared.config.deploy import branch_characters_from
from shared.errors import ConfigurationError, SlashopsError
from shared.logs import log_context
from shared.slack.blocks import SlackMessage
from shared.slack.messages import error_message, help_for, shown_error

logger = logging.getLogger(__name__)
HELP_FLAGS = frozenset({"--help", "-h"})

UseCase = Callable[[Command, IngressDeps], SlackMessage]


def use_case_for(spec: CommandSpec) -> UseCase:
    """The declared answer (`runs`) of a command the ingress answers; for a published one, its confirmation
    prompt (`confirm`) or publishing (held for approval when a rule says so)."""
    if spec.handled_by == "ingress":
        if spec.runs is None:
            raise ConfigurationError(f"command {spec.name!r} is answered by the ingress but declares no `runs`")
        return resolve(spec.runs)
    return resolve(spec.confirm) if spec.confirm else publish_or_ask


def handle_command(verified: VerifiedRequest, deps: IngressDeps, *, normalized: str | None = None) -> SlackMessage:
    """Everything after the signature check; every refusal becomes the same kind of message.

    `normalized`: text already in normalized form (a button's command, built by `shlex.join`), not normalized
    again (normalizing twice could change what the tokens mean).
    """
    return run_command(verified, deps, normalized=normalized)[0]


def run_command(
    verified: VerifiedRequest, deps: IngressDeps, *, normalized: str | None = None
) -> tuple[SlackMessage, SlashopsError | None]:
    """`handle_command`, also saying why it refused (None: answered or published), for a caller that must act on
    the difference (an approval that ran nothing is reopened: `approval_clicks`)."""
    with log_context():
        text = normalize(verified.request.text) if normalized is None else normalized
        try:
            return _dispatch(verified, text, deps), None
        except SlashopsError as error:
            request = verified.request
            logger.info(
                "command refused",
                extra={"refusal": type(error).__name__, "user_id": request.user_id, "channel_id": request.channel_id},
            )
            shown = shown_error(error)
            record_refusal(verified, text, error, shown.message, deps)  # refusals only
            return error_message(shown), error


def _help_of(spec: CommandSpec, verified: VerifiedRequest, text: str, deps: IngressDeps) -> SlackMessage:
    """`<command> --help` is `help <command>`: the same usage and the same line on whether you may run it here."""
    help_spec = deps.catalog.get("help")
    if help_spec is None or help_spec.runs is None:
        return help_for(spec)
    asked = Command(parsed=ParsedCommand(help_spec, {"command": spec.name}), text=text, verified=verified)
    answer: SlackMessage = resolve(help_spec.runs)(asked, deps)
    return answer


def _dispatch(verified: VerifiedRequest, text: str, deps: IngressDeps) -> SlackMessage:
    """`text` is normalized once: parsed here, and carried by a published event."""
    spec, rest = resolve_command(deps.catalog, split_words(text))
    if any(token in HELP_FLAGS for token in rest):
        return _help_of(spec, verified, text, deps)
    caller, decided = (
        (None, None) if spec.open_to_all else admit(spec, verified.request, deps, deadline=verified.deadline)
    )
    parsed = parse_arguments(spec, rest, extra_characters=branch_characters_from(deps.config.get))
    decision = None if caller is None else authorize(spec, parsed.arguments, caller, deps, decided=decided)
    rule, approval = (None, None) if decision is None else (decision.rule, decision.approval)
    command = Command(parsed=parsed, text=text, verified=verified, rule=rule, approval=approval)
    if spec.holds is not None:
        command = resolve(spec.holds)(command, deps)
    if spec.before_publishing is not None:
        command = check_and_claim(resolve(spec.before_publishing), command, deps)
    if spec.handled_by == "ingress" and spec.changes_state:
        command = claim_before_acting(command, deps)
    return use_case_for(spec)(command, deps)
