"""`/ops history`: the latest commands the caller may see (see `ledger_view`), filtered by command or user."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

from chalicelib.deps import IngressDeps
from chalicelib.ledger_view import STATE_ICONS, Viewer, age, require_ledger
from chalicelib.models import Command
from shared.commands.parser import ParsedCommand
from shared.errors import UsageError
from shared.ledger.models import LedgerEntry
from shared.ledger.port import LedgerReader
from shared.slack.blocks import MAX_BLOCKS, SlackMessage, context, section
from shared.slack.messages import format_arguments
from shared.slack.mrkdwn import code, mention

HISTORY_MAX = 50
LINES_PER_SECTION = 10
ARGUMENTS_SHOWN = 160


def show_history(command: Command, deps: IngressDeps) -> SlackMessage:
    return history_message(command.parsed, require_ledger(deps.ledger), Viewer.of(command, deps), deps.now())


def history_filters(parsed: ParsedCommand, viewer: Viewer) -> tuple[str | None, str | None, int]:
    """(command, user, limit) from `--command`, `--mine` / `--user` and `--limit`."""
    arguments = parsed.arguments
    limit = arguments.get("limit")
    limit = 10 if limit is None else limit
    if not isinstance(limit, int) or not 1 <= limit <= HISTORY_MAX:
        raise UsageError(f"`--limit` must be between 1 and {HISTORY_MAX}.", hint="Example: `/ops history --limit 20`.")
    user = arguments.get("user")
    if arguments.get("mine"):
        if user:
            raise UsageError("Use either `--mine` or `--user`, not both.", hint="Example: `/ops history --mine`.")
        user = viewer.user_id
    command = arguments.get("command")
    return (str(command) if command else None), (str(user) if user else None), limit


def history_message(parsed: ParsedCommand, ledger: LedgerReader, viewer: Viewer, now: datetime) -> SlackMessage:
    command, user, limit = history_filters(parsed, viewer)
    entries = list(itertools.islice(_visible(ledger.iter_recent(command=command, user=user), viewer), limit))
    parts = (code(command) if command else "", f"by {code(user)}" if user else "")
    described = " ".join(part for part in parts if part)
    if not entries:
        return SlackMessage(
            text="No commands found.",
            blocks=(
                section(f"No commands {described} that you can see." if described else "No commands you can see yet."),
                context("You see your own commands, and others' for the commands the access rules let you run."),
            ),
        )
    lines = [history_line(entry, now) for entry in entries]
    blocks = [section("\n".join(chunk)) for chunk in itertools.batched(lines, LINES_PER_SECTION, strict=False)][
        : MAX_BLOCKS - 1
    ]
    footer = f"Latest {len(entries)} {described}".rstrip() + ". `/ops status &lt;id&gt;` shows one in detail."
    blocks.append(context(footer))
    return SlackMessage(text=f"Latest {len(entries)} commands", blocks=tuple(blocks))


def _visible(entries: Iterable[LedgerEntry], viewer: Viewer) -> Iterable[LedgerEntry]:
    return (entry for entry in entries if viewer.may_see(entry))


def history_line(entry: LedgerEntry, now: datetime) -> str:
    shown = format_arguments(entry.arguments)
    if len(shown) > ARGUMENTS_SHOWN:  # keeps ten lines within a section's 3,000 characters
        shown = shown[: ARGUMENTS_SHOWN - 1] + "…"
    return (
        f"{STATE_ICONS[entry.state]} {code(entry.command_id)} {code(entry.command)}{(' ' + shown) if shown else ''}"
        f" · {entry.state} · {mention(entry.user_id)} · {age(entry.started_at(), now)} ago"
    )
