"""`/ops help [command]`: the commands this caller may run in this channel, or one command's usage and whether
(and with which limits) the caller may run it here.

Help tells the truth: a command the rules refuse the caller here is not listed, only counted, with a pointer to
`/ops whoami`, which says which rule decides. While the configuration is unusable, every command is listed and the
footer says that what the caller may run cannot be checked (every command but `help` then fails closed).
"""

from __future__ import annotations

import logging

from chalicelib.access import Standing, standing
from chalicelib.deps import IngressDeps
from chalicelib.models import Command
from shared.commands.spec import CommandSpec
from shared.config.access import AccessDecision
from shared.errors import ConfigurationError, UnknownCommandError
from shared.slack.blocks import SlackMessage
from shared.slack.messages import help_for, help_overview
from shared.slack.mrkdwn import code

logger = logging.getLogger(__name__)
WHOAMI_EXPLAINS = "`/ops whoami` explains why."
UNCHECKED = "slashops cannot check what you may run right now: its configuration is unusable (the admins are told)."


def show_help(command: Command, deps: IngressDeps) -> SlackMessage:
    name = command.parsed.arguments.get("command")
    found = _standing(command, deps)
    if not isinstance(name, str) or not name:
        return overview(deps, found)
    spec = deps.catalog.get(name.lower())
    if spec is None:
        closest = deps.catalog.closest(name)
        suggestion = f"Did you mean `{closest}`? " if closest else ""
        raise UnknownCommandError(
            f"{code(name)} is not a command.", hint=f"{suggestion}Type `/ops help` to see every command."
        )
    return help_for(spec, access=access_line(spec, found))


def _standing(command: Command, deps: IngressDeps) -> Standing | None:
    try:
        return standing(command.request, deps, deadline=command.verified.deadline)
    except ConfigurationError as error:
        logger.error("help without access checks: %s", error.message)
        return None


def overview(deps: IngressDeps, found: Standing | None) -> SlackMessage:
    if found is None:
        return help_overview(deps.catalog, footer=UNCHECKED)
    listed = [spec for spec in deps.catalog if found.may_run(spec.name)]
    notes = {spec.name: _note(found.decisions[spec.name]) for spec in listed}
    hidden = len(deps.catalog.names()) - len(listed)
    footer = ""
    if hidden:
        others = "1 other command exists" if hidden == 1 else f"{hidden} other commands exist"
        footer = f"{others} that you may not run in this channel; {WHOAMI_EXPLAINS}"
    if found.caller.groups is None:
        footer += " Slack could not be asked which user groups you are in, so commands open to groups are not listed."
    return help_overview(listed, notes=notes, footer=footer.strip())


def _note(decision: AccessDecision | None) -> str:
    if decision is None or not decision.allowed:
        return ""
    parts = [part for part in (decision.describe_limits(), decision.describe_held()) if part]
    return f" _(you: {'; '.join(parts)})_" if parts else ""


def access_line(spec: CommandSpec, found: Standing | None) -> str:
    """Whether the caller may run `spec` here: "you may run this with `--env staging` only (rule #1)"."""
    if found is None:
        return f":warning: {UNCHECKED}"
    decision = found.decisions.get(spec.name)
    if decision is None:
        return ":white_check_mark: Everyone may run this."
    held = ""
    if decision.held:
        held = f" {'Every request is' if decision.always_held else 'Some requests are'} {decision.describe_held()}."
    if decision.limited:
        return (
            f":white_check_mark: In this channel you may run this {decision.describe_limits()} "
            f"(rule #{decision.rule}).{held}"
        )
    if decision.allowed:
        return f":white_check_mark: You may run this in this channel (rule #{decision.rule}).{held}"
    return f":no_entry: You may not run this here: {decision.reason} {WHOAMI_EXPLAINS}"
