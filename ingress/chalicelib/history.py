"""`status <id>` and `history`, answered by the ingress from the command ledger.

Who may see what: your own commands, always; someone else's command only if the access rules admit you
(by user ID or name) for that command in *some* channel — whoever may run `deploy` may see every deploy.
A command you may not see is reported exactly like one that does not exist, so ids cannot be probed.
The ledger lists commands once the notifier has recorded them (a second or so after they are accepted).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import datetime

from shared.commands.parser import ParsedCommand
from shared.config.access import AccessRule
from shared.errors import SlashopsError, UsageError
from shared.ledger.errors import LedgerUnavailableError
from shared.ledger.models import CommandState, LedgerEntry
from shared.ledger.port import LedgerReader
from shared.slack.blocks import MAX_BLOCKS, SlackMessage, context, section
from shared.slack.messages import format_arguments
from shared.slack.mrkdwn import channel, code, link, mention

HISTORY_MAX = 50
LINES_PER_SECTION = 10
ARGUMENTS_SHOWN = 160
STATE_ICONS: dict[CommandState, str] = {
    "requested": ":inbox_tray:",
    "accepted": ":hourglass_flowing_sand:",
    "running": ":arrows_counterclockwise:",
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "rejected": ":no_entry:",
}
NOT_REPORTED = (
    ":warning: Finished, not yet reported to Slack: the notifier could not post the result. When Slack was "
    "unreachable, it retries for a few minutes; after that the result waits in the notifier's dead-letter queue "
    "until an operator redrives it (`slashops dlq redrive notifier`). The state above is the result."
)


class CommandNotFoundError(SlashopsError):
    title = "No such command"


class Viewer:
    """The caller, and the rules that decide which other people's commands they may see."""

    def __init__(self, user_id: str, user_name: str, rules: Callable[[], tuple[AccessRule, ...]]) -> None:
        self.user_id = user_id
        self.user_name = user_name
        self._rules = rules
        self._cached: tuple[AccessRule, ...] | None = None

    def may_see(self, entry: LedgerEntry) -> bool:
        if entry.user_id == self.user_id:
            return True
        if self._cached is None:
            self._cached = self._rules()  # read the config only when someone else's command comes up
        return any(r.covers(entry.command) and r.admits_user(self.user_id, self.user_name) for r in self._cached)


def require_ledger(ledger: LedgerReader | None) -> LedgerReader:
    if ledger is None:
        raise LedgerUnavailableError("The command ledger is not configured.", hint="Set SLASHOPS_LEDGER_TABLE.")
    return ledger


def status_message(command_id: str, ledger: LedgerReader, viewer: Viewer, now: datetime) -> SlackMessage:
    entry = ledger.get(command_id)
    if entry is None or not viewer.may_see(entry):
        raise CommandNotFoundError(
            f"There is no command {code(command_id)} that you can see.",
            hint="`/ops history --mine` lists your latest commands. A command just accepted may take a second.",
        )
    return SlackMessage(
        text=f"{entry.command} {entry.command_id}: {entry.state}", blocks=tuple(_status_blocks(entry, now))
    )


def _status_blocks(entry: LedgerEntry, now: datetime) -> list[dict[str, object]]:
    head = f"{STATE_ICONS[entry.state]} {code(entry.command)} {code(entry.command_id)} — *{entry.state}*"
    shown = format_arguments(entry.arguments)
    lines = [head + (f"\n{shown}" if shown else "")]
    if entry.finished and not entry.reported:
        lines.append(NOT_REPORTED)
    if entry.last_message:  # mrkdwn from a result event, escaped where it was written: shown as it is
        lines.append(f"*Last message:* {entry.last_message}")
    if entry.links:
        lines.append(" · ".join(link(item.url, item.label) for item in entry.links))
    facts = [f"Run by {mention(entry.user_id)}", f"in {channel(entry.channel_id)}"]
    facts.append(f"{age(entry.started_at(), now)} ago")
    if entry.duration_seconds is not None:
        facts.append(f"took {round(entry.duration_seconds)}s")
    facts.append(f"updated {age(entry.updated_at, now)} ago")
    return [section("\n".join(lines)), context(" · ".join(facts))]


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


def age(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
