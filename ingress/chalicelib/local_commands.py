"""Commands the ingress answers itself (`handled_by="ingress"`), by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.history import Viewer, history_message, require_ledger, status_message
from chalicelib.slack_request import SlashCommandRequest
from shared.commands.catalog import Catalog
from shared.commands.parser import ParsedCommand
from shared.config.access import AccessRule
from shared.errors import UnknownCommandError
from shared.ledger.port import LedgerReader
from shared.slack.blocks import SlackMessage
from shared.slack.messages import help_for, help_overview
from shared.slack.mrkdwn import code


@dataclass(frozen=True)
class Invocation:
    """A parsed, authorized command for an ingress-local handler."""

    parsed: ParsedCommand
    request: SlashCommandRequest
    catalog: Catalog
    ledger: LedgerReader | None = None
    access_rules: Callable[[], tuple[AccessRule, ...]] = lambda: ()
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def viewer(self) -> Viewer:
        return Viewer(self.request.user_id, self.request.user_name, self.access_rules)


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
            f"{code(name)} is not a command.", hint=f"{suggestion}Type `/ops help` to see every command."
        )
    return help_for(spec)


def show_status(invocation: Invocation) -> SlackMessage:
    command_id = str(invocation.parsed.arguments["id"])
    return status_message(command_id, require_ledger(invocation.ledger), invocation.viewer(), invocation.now)


def show_history(invocation: Invocation) -> SlackMessage:
    return history_message(invocation.parsed, require_ledger(invocation.ledger), invocation.viewer(), invocation.now)


def default_local_handlers() -> Mapping[str, LocalHandler]:
    return {"help": show_help, "status": show_status, "history": show_history}
