"""`slashops stats`: what the system did over a window, per command, read from the command ledger.

The same figures the CloudWatch dashboard shows (docs/operations.md "Metrics and dashboard"), counted from the ledger
instead of the metrics, so they work under `make run` (no CloudWatch there) and on AWS alike:

    slashops stats --local                 # make run's ledger, the last 24 hours
    slashops stats --local --since 2h
    slashops stats --since 7d              # your AWS account's ledger (boto3's profile and region)

The ledger keeps each command's latest state, not its history: a command counts as `started` when a consumer
accepted it (or it went further), `held` when it waited for an approval (whatever came of it); `requested` are the
commands queued to run (a held one once approved). Refusals are counted by their reason (`CommandRefused.decision`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from shared.ledger.models import LedgerEntry
from shared.ledger.port import LedgerReader
from shared.metrics import UNKNOWN_COMMAND
from tools.cli.aws_target import Target, TargetError, add_target_options

COLUMNS = ("requested", "refused", "held", "started", "succeeded", "failed", "cancelled", "rejected")
STARTED = frozenset({"accepted", "running", "succeeded", "failed", "cancelled"})
FINISHED = ("succeeded", "failed", "cancelled", "rejected")
DEFAULT_SINCE = "24h"
SORT_SLACK = timedelta(hours=1)
MAX_READ = 100_000
"""Ledger items read at most (newest first): far more than a team's commands over a month."""


class StatsError(Exception):
    """Bad arguments, or a ledger that cannot be read; the message says which."""


@dataclass
class CommandStats:
    """One command's counts over the window, and the durations of the runs that finished with one."""

    counts: Counter[str] = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)
    refused_by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, entry: LedgerEntry) -> None:
        if entry.state == "refused":
            self.counts["refused"] += 1
            self.refused_by_reason[entry.decision or "unknown"] += 1
            return
        held = entry.approval_rule is not None
        if held:
            self.counts["held"] += 1
        if not held or entry.approval == "approved":
            self.counts["requested"] += 1
        if entry.state in STARTED and entry.last_event_key:
            self.counts["started"] += 1
        if entry.state in FINISHED and entry.last_event_key:  # an answer the ingress gave itself ran nothing
            self.counts[entry.state] += 1
            if entry.duration_seconds is not None and entry.state != "rejected":
                self.durations.append(entry.duration_seconds)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` 0.5 = median); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def tally(
    ledger: LedgerReader, *, since: datetime, known_commands: Container[str] | None = None
) -> dict[str, CommandStats]:
    """Per command (a refusal of what is no command under `unknown`, as the metrics count it), over `since` → now."""
    if known_commands is None:
        from shared.commands.catalog import CATALOG

        known_commands = CATALOG
    stats: dict[str, CommandStats] = {}
    for entry in _within(ledger, since):
        command = entry.command if entry.command in known_commands else UNKNOWN_COMMAND
        stats.setdefault(command, CommandStats()).add(entry)
    return stats


def _within(ledger: LedgerReader, since: datetime) -> Iterator[LedgerEntry]:
    """Entries created since `since`. Both reads are newest first (by their first event's time, which may differ a
    little from `created_at`): each stops once entries are older than `since` by more than `SORT_SLACK`."""
    for refused in (False, True):
        for entry in ledger.iter_recent(refused=refused):
            if entry.created_at < since - SORT_SLACK:
                break
            if entry.created_at >= since:
                yield entry


def render(stats: dict[str, CommandStats], *, since: datetime, now: datetime) -> list[str]:
    """A table, one row per command and a total, then the refusals by reason."""
    header = f"commands from {since:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC"
    if not stats:
        return [header, "nothing was requested in this window"]
    total = CommandStats()
    for one in stats.values():
        total.counts.update(one.counts)
        total.durations.extend(one.durations)
        total.refused_by_reason.update(one.refused_by_reason)
    width = max(len("command"), *(len(name) for name in stats))
    lines = [header, _row("command", [*COLUMNS, "p50 s", "p90 s"], width)]
    for name, one in [*sorted(stats.items()), ("total", total)]:
        lines.append(_row(name, [*(str(one.counts[c]) for c in COLUMNS), *_durations(one.durations)], width))
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(total.refused_by_reason.items()))
    lines.append(f"refused by reason: {reasons or 'none'}")
    return lines


def _durations(values: Sequence[float]) -> list[str]:
    return [
        f"{value:.0f}" if value is not None else "-" for value in (percentile(values, 0.5), percentile(values, 0.9))
    ]


def _row(name: str, cells: Iterable[str], width: int) -> str:
    return f"{name:<{width}}" + "".join(f"  {cell:>9}" for cell in cells)


def parse_since(value: str, *, now: datetime) -> datetime:
    """`30m`, `24h`, `7d` ago, or an ISO 8601 time (UTC if no zone)."""
    from tools.cli.replay import ReplayError, parse_time

    try:
        return parse_time(value, now=now)
    except ReplayError as error:
        raise StatsError(str(error)) from error


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="slashops stats", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_argument("--since", default=DEFAULT_SINCE, help="start of the window: 30m/24h/7d ago, or ISO 8601")
    add_target_options(cli)
    return cli


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, now: datetime | None = None) -> int:
    args = parser().parse_args(argv)
    moment = now or datetime.now(UTC)
    target = Target.from_args(args)
    try:
        since = parse_since(args.since, now=moment)
        ledger = _ledger(target)
        stats = tally(ledger, since=since)
    except (StatsError, TargetError) as error:
        print(f"slashops stats: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the ledger unreachable (botocore raises many types): said, not traced
        print(f"slashops stats: the ledger on {target.describe()} could not be read: {error}", file=sys.stderr)
        return 1
    for line in render(stats, since=since, now=moment):
        print(line, file=out)
    return 0


def _ledger(target: Target) -> LedgerReader:
    from shared.aws.tables import LEDGER
    from shared.ledger.dynamodb import DynamoDbLedger

    return DynamoDbLedger(
        os.environ.get(LEDGER.variable, LEDGER.name), client=target.client("dynamodb"), max_read=MAX_READ
    )
