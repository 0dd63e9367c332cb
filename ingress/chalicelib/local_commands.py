"""Commands the ingress answers itself (`handled_by="ingress"`), by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from chalicelib.slack_request import SlashCommandRequest
from shared.commands.catalog import Catalog
from shared.commands.parser import ParsedCommand
from shared.errors import UnknownCommandError
from shared.slack.blocks import SlackMessage
from shared.slack.messages import help_for, help_overview


@dataclass(frozen=True)
class Invocation:
    """A parsed, authorized command for an ingress-local handler."""

    parsed: ParsedCommand
    request: SlashCommandRequest
    catalog: Catalog


LocalHandler = Callable[[Invocation], SlackMessage]


def show_help(invocation: Invocation) -> SlackMessage:
    name = invocation.parsed.arguments.get("command")
    if not isinstance(name, str) or not name:
        return help_overview(invocation.catalog)
    spec = invocation.catalog.get(name.lower())
    if spec is None:
        closest = invocation.catalog.closest(name)
        suggestion = f"Did you mean `{closest}`? " if closest else ""
        raise UnknownCommandError(
            f"`{name}` is not a command.", hint=f"{suggestion}Type `/ops help` to see every command."
        )
    return help_for(spec)


def default_local_handlers() -> Mapping[str, LocalHandler]:
    return {"help": show_help}
