"""`/ops status <id>`: one command from the ledger, if the caller may see it (`ledger_view.visible_entry`, the rule
every button naming a command applies too)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.deps import IngressDeps
from chalicelib.ledger_view import (
    Viewer,
    age,
    approval_line,
    require_ledger,
    shown_state,
    visible_entry,
)
from chalicelib.models import Command
from shared.commands.catalog import CATALOG
from shared.ledger.models import LedgerEntry
from shared.ledger.port import LedgerReader
from shared.slack.blocks import SlackMessage, context, section
from shared.slack.messages import format_arguments
from shared.slack.mrkdwn import channel, code, link, mention, text

NOT_REPORTED = (
    ":warning: Finished, not yet reported to Slack: the notifier could not post the result. When Slack was "
    "unreachable, it retries for a few minutes; after that the result waits in the notifier's dead-letter queue "
    "until an operator redrives it (`slashops dlq redrive notifier`). The state above is the result."
)


def show_status(command: Command, deps: IngressDeps) -> SlackMessage:
    command_id = str(command.parsed.arguments["id"])
    return status_message(command_id, require_ledger(deps.ledger), Viewer.of(command, deps), deps.now())


def status_message(command_id: str, ledger: LedgerReader, viewer: Viewer, now: datetime) -> SlackMessage:
    entry = visible_entry(command_id, ledger, viewer)
    return SlackMessage(
        text=f"{text(entry.command)} {text(entry.command_id)}: {entry.state}", blocks=tuple(_status_blocks(entry, now))
    )


def _refusal_lines(entry: LedgerEntry) -> list[str]:
    """What was typed (as text), the decision, the rule that decided when known, and the reason the user read."""
    decided = f" by access rule #{entry.rule}" if entry.rule is not None else ""
    lines = [f"Typed: {code(entry.text or entry.command)}", f"*Refused ({text(entry.decision)}){decided}:*"]
    if entry.last_message:  # the mrkdwn the user was answered with, escaped where it was written
        lines[-1] += f" {entry.last_message}"
    return lines


def _status_blocks(entry: LedgerEntry, now: datetime) -> list[dict[str, object]]:
    icon, state = shown_state(entry, now)
    head = f"{icon} {code(entry.command)} {code(entry.command_id)} — *{state}*"
    shown = format_arguments(entry.arguments, CATALOG.get(entry.command))
    lines = [head + (f"\n{shown}" if shown else "")]
    if entry.rollback_of:
        lines.append(f":rewind: A rollback: it undoes deploy {code(entry.rollback_of)}.")
    if (approval := approval_line(entry, now)) is not None:
        lines.append(approval)
    if entry.finished and entry.delivery_failed:
        lines.append(NOT_REPORTED)
    if entry.state == "refused":
        lines.extend(_refusal_lines(entry))
    elif entry.last_message:  # mrkdwn from a result event, escaped where it was written: shown as it is
        lines.append(f"*Last message:* {entry.last_message}")
    if entry.state == "cancelled":
        by = f"by {mention(entry.cancelled_by)}" if entry.cancelled_by else "outside slashops (in Jenkins)"
        lines.append(f"*Cancelled* {by}")
    if entry.links:
        lines.append(" · ".join(link(item.url, item.label) for item in entry.links))
    never_ran = entry.shown_state in ("awaiting approval", "denied", "expired") or entry.approval_lapsed(now)
    facts = [f"{'Asked' if never_ran else 'Run'} by {mention(entry.user_id)}", f"in {channel(entry.channel_id)}"]
    facts.append(f"{age(entry.started_at(), now)} ago")
    if entry.duration_seconds is not None:
        facts.append(f"took {round(entry.duration_seconds)}s")
    facts.append(f"updated {age(entry.updated_at, now)} ago")
    return [section("\n".join(lines)), context(" · ".join(facts))]
