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
from shared.ledger.shown import command_line
from shared.slack.blocks import MAX_BLOCKS, SlackMessage, context, section
from shared.slack.mrkdwn import code, mention

HISTORY_MAX = 50
LINES_PER_SECTION = 10
ARGUMENTS_SHOWN = 160


def show_history(command: Command, deps: IngressDeps) -> SlackMessage:
    return history_message(command.parsed, require_ledger(deps.ledger), Viewer.of(command, deps), deps.now())


def history_filters(parsed: ParsedCommand, viewer: Viewer) -> tuple[str | None, str | None, int]:
    """(command, user, limit) from `--command`, `--mine` / `--user` and `--limit` (`--refused` is read apart)."""
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
    refused = bool(parsed.arguments.get("refused"))
    recent = ledger.iter_recent(command=command, user=user, refused=refused)
    entries = list(itertools.islice(_visible(recent, viewer), limit))
    parts = (code(command) if command else "", f"by {code(user)}" if user else "")
    described = " ".join(part for part in parts if part)
    noun = "refused commands" if refused else "commands"
    if not entries:
        return SlackMessage(
            text=f"No {noun} found.",
            blocks=(
                section(f"No {noun} {described} that you can see." if described else f"No {noun} you can see yet."),
                context("You see your own commands, and others' for the commands the access rules let you run."),
            ),
        )
    lines = [(refused_line if refused else history_line)(entry, now) for entry in entries]
    blocks = [section("\n".join(chunk)) for chunk in itertools.batched(lines, LINES_PER_SECTION, strict=False)][
        : MAX_BLOCKS - 1
    ]
    footer = f"Latest {len(entries)} {'refused ' if refused else ''}{described}".rstrip()
    blocks.append(context(footer + ". `/ops status &lt;id&gt;` shows one in detail."))
    return SlackMessage(text=f"Latest {len(entries)} {noun}", blocks=tuple(blocks))


def _visible(entries: Iterable[LedgerEntry], viewer: Viewer) -> Iterable[LedgerEntry]:
    return (entry for entry in entries if viewer.may_see(entry))


def refused_line(entry: LedgerEntry, now: datetime) -> str:
    """What was typed (as text: it may be anything), who, and why it was refused."""
    typed = entry.text if len(entry.text) <= ARGUMENTS_SHOWN else entry.text[: ARGUMENTS_SHOWN - 1] + "…"
    return (
        f"{STATE_ICONS[entry.state]} {code(entry.command_id)} {code(typed or entry.command)} · {entry.decision}"
        f" · {mention(entry.user_id)} · {age(entry.started_at(), now)} ago"
    )


def history_line(entry: LedgerEntry, now: datetime) -> str:
    return command_line(entry, now)  # shared with the Home tab
