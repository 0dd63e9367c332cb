"""`/ops help [command]`: every command with its summary, or one command's usage, options and examples."""

from __future__ import annotations

from chalicelib.deps import IngressDeps
from chalicelib.models import Command
from shared.errors import UnknownCommandError
from shared.slack.blocks import SlackMessage
from shared.slack.messages import help_for, help_overview
from shared.slack.mrkdwn import code


def show_help(command: Command, deps: IngressDeps) -> SlackMessage:
    name = command.parsed.arguments.get("command")
    if not isinstance(name, str) or not name:
        return help_overview(deps.catalog)
    spec = deps.catalog.get(name.lower())
    if spec is None:
        closest = deps.catalog.closest(name)
        suggestion = f"Did you mean `{closest}`? " if closest else ""
        raise UnknownCommandError(
            f"{code(name)} is not a command.", hint=f"{suggestion}Type `/ops help` to see every command."
        )
    return help_for(spec)
