"""From a verified request to its use case: command exists → caller may run it here → arguments valid → caller
may run it with these arguments → use case.

Rules on arguments are applied to the parsed values, defaults included (an omitted `--env` counts as its default).

The registry says what happens to each command: the ingress answers `help`, `status`, `history`, `whoami`, `lock`,
`unlock` and `locks` itself (`handled_by="ingress"`, by name); every other command is published for its consumer
(`publishing.publish`), after the checks `BEFORE_PUBLISHING` names (a deploy into a locked target is refused here),
unless an access rule holds it for approval (`approving.publish_or_ask`: held, and published once approved).

Every signed request that changes state passes the replay guard once (`chalicelib.replays`): a published one when
it is published (alongside its check, for a deploy), one the ingress answers (`changes_state`: `lock`, `unlock`)
before it acts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from chalicelib.access import admit, authorize
from chalicelib.approving import publish_or_ask
from chalicelib.deps import IngressDeps
from chalicelib.help import show_help
from chalicelib.locking import lock_target, refuse_if_locked, show_locks, unlock_target
from chalicelib.models import Command, VerifiedRequest
from chalicelib.refusals import record_refusal
from chalicelib.replays import Check, check_and_claim, claim_before_acting
from chalicelib.whoami import show_whoami
from shared.commands.parser import parse_arguments, resolve_command
from shared.commands.spec import CommandSpec
from shared.commands.tokenizer import normalize, split_words
from shared.config.deploy import branch_characters_from
from shared.errors import SlashopsError
from shared.logs import log_context
from shared.slack.blocks import SlackMessage
from shared.slack.messages import error_message, help_for, shown_error

logger = logging.getLogger(__name__)
HELP_FLAGS = frozenset({"--help", "-h"})

UseCase = Callable[[Command, IngressDeps], SlackMessage]


def show_status(command: Command, deps: IngressDeps) -> SlackMessage:
    """`chalicelib.status.show_status`, imported on the first `status`: the ledger's models wait for a reader."""
    from chalicelib.status import show_status

    return show_status(command, deps)


def show_history(command: Command, deps: IngressDeps) -> SlackMessage:
    """`chalicelib.history.show_history`, imported on the first `history` (as `show_status`)."""
    from chalicelib.history import show_history

    return show_history(command, deps)


def confirm_first(command: Command, deps: IngressDeps) -> SlackMessage:
    """`chalicelib.confirming.confirm_first`, imported on the first `restore` (as `show_status`)."""
    from chalicelib.confirming import confirm_first

    return confirm_first(command, deps)


ANSWERED_HERE: Mapping[str, UseCase] = {
    "help": show_help,
    "status": show_status,
    "history": show_history,
    "whoami": show_whoami,
    "lock": lock_target,
    "unlock": unlock_target,
    "locks": show_locks,
}
"""The commands the ingress answers itself (`handled_by="ingress"`), by name."""
BEFORE_PUBLISHING: Mapping[str, Check] = {"deploy": refuse_if_locked}
"""Checks a published command must pass first (they raise to refuse): a deploy into a locked target. Each runs
alongside the replay guard's claim when that keeps every answer true (`replays.check_and_claim`)."""
CONFIRMED_HERE: Mapping[str, UseCase] = {"restore": confirm_first}
"""Published commands the ingress asks to confirm first (at once, with a button), by name."""


def use_case_for(spec: CommandSpec) -> UseCase:
    if spec.handled_by == "ingress":
        return ANSWERED_HERE[spec.name]
    return CONFIRMED_HERE.get(spec.name, publish_or_ask)


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


def _dispatch(verified: VerifiedRequest, text: str, deps: IngressDeps) -> SlackMessage:
    """`text` is normalized once: parsed here, and carried by a published event."""
    spec, rest = resolve_command(deps.catalog, split_words(text))
    if any(token in HELP_FLAGS for token in rest):
        return help_for(spec)
    caller, decided = (
        (None, None) if spec.open_to_all else admit(spec, verified.request, deps, deadline=verified.deadline)
    )
    parsed = parse_arguments(spec, rest, extra_characters=branch_characters_from(deps.config.get))
    decision = None if caller is None else authorize(spec, parsed.arguments, caller, deps, decided=decided)
    rule, approval = (None, None) if decision is None else (decision.rule, decision.approval)
    command = Command(parsed=parsed, text=text, verified=verified, rule=rule, approval=approval)
    if (check := BEFORE_PUBLISHING.get(spec.name)) is not None:
        command = check_and_claim(check, command, deps)
    if spec.handled_by == "ingress" and spec.changes_state:
        command = claim_before_acting(command, deps)
    return use_case_for(spec)(command, deps)
