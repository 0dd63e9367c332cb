"""Which backups a retention policy keeps, and why: pure, no I/O (the pruning step, `pruning.py`, acts on it and
reports a `Pruning`).

The rules are restic's (`restic forget --keep-*`), applied to the backups newest first: `keep_last N` keeps the N
newest; `keep_daily N` keeps the newest backup of each of the N most recent days that have backups (and so on by
hour, ISO week, month and year, in UTC). They are cumulative: a backup kept by any rule stays. A backup's time is
its `finished_at`, the time `backups` shows. The newest backup is always kept, whatever the policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from shared.config.backup import RetentionPolicy

NEWEST = "newest"


class Dated(Protocol):
    """A backup as the policy sees it (a `Manifest` is one)."""

    @property
    def backup_id(self) -> str: ...

    @property
    def finished_at(self) -> datetime: ...


@dataclass(frozen=True)
class Period:
    """One calendar bucket of a time rule: its label, where it starts and where it ends."""

    label: str
    start: datetime
    end: datetime


def _hour(at: datetime) -> Period:
    start = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return Period(f"{start:%Y-%m-%d %H}h", start, start + timedelta(hours=1))


def _day(at: datetime) -> Period:
    start = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(f"{start:%Y-%m-%d}", start, start + timedelta(days=1))


def _week(at: datetime) -> Period:
    day = _day(at).start
    start = day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    year, week, _ = start.isocalendar()
    return Period(f"{year}-W{week:02d}", start, start + timedelta(days=7))


def _month(at: datetime) -> Period:
    start = _day(at).start.replace(day=1)
    return Period(f"{start:%Y-%m}", start, _months_later(start, 1))


def _year(at: datetime) -> Period:
    start = _day(at).start.replace(month=1, day=1)
    return Period(f"{start:%Y}", start, start.replace(year=start.year + 1))


def _months_later(first_of_month: datetime, months: int) -> datetime:
    index = first_of_month.month - 1 + months
    return first_of_month.replace(year=first_of_month.year + index // 12, month=index % 12 + 1)


PERIODS: dict[str, Callable[[datetime], Period]] = {
    "keep_hourly": _hour,
    "keep_daily": _day,
    "keep_weekly": _week,
    "keep_monthly": _month,
    "keep_yearly": _year,
}
"""The time rules and the calendar bucket each counts in (`keep_last` counts backups)."""


def _periods_later(period: Period, rule: str, count: int) -> datetime:
    """When the `count`-th bucket after `period` starts: the earliest a backup kept for `period` can be pruned."""
    if rule == "keep_monthly":
        return _months_later(period.start, count)
    if rule == "keep_yearly":
        return period.start.replace(year=period.start.year + count)
    return period.start + (period.end - period.start) * count


@dataclass(frozen=True)
class Reason:
    """One rule that keeps a backup: `keep_daily` for `2026-12-06`; `keep_last` as the n-th newest."""

    rule: str
    detail: str
    until_at_least: datetime | None = None
    """When the rule can let it go at the earliest (time rules, once its bucket has ended); None: no date is sure."""


@dataclass(frozen=True)
class Decision[B: Dated]:
    backup: B
    reasons: tuple[Reason, ...]
    """Empty: the policy does not keep it (it is pruned)."""

    @property
    def kept(self) -> bool:
        return bool(self.reasons)

    @property
    def until_at_least(self) -> datetime | None:
        """The latest date any of its rules is sure to keep it to; None if none is sure of one."""
        dates = [reason.until_at_least for reason in self.reasons if reason.until_at_least is not None]
        return max(dates) if dates else None


def newest_first[B: Dated](backups: Sequence[B]) -> list[B]:
    """Newest `finished_at` first; ties by backup id, so the order never depends on how the store listed them."""
    return sorted(backups, key=lambda backup: (backup.finished_at, backup.backup_id), reverse=True)


def apply_policy[B: Dated](policy: RetentionPolicy, backups: Sequence[B], *, now: datetime) -> list[Decision[B]]:
    """Every backup with the rules that keep it, newest first. A policy that keeps everything keeps everything.

    As restic's `ApplyPolicy`: walk the backups newest first; a rule with a count left keeps a backup whose bucket
    (the backup itself for `keep_last`, else its hour, day, ...) differs from the last bucket that rule kept, and
    spends one of its count.
    """
    ordered = newest_first(backups)
    if policy.keeps_everything:
        return [Decision(backup, (Reason("no rule", "the policy keeps everything"),)) for backup in ordered]
    left = dict(policy.rules())
    last: dict[str, str] = {}
    decisions = []
    for position, backup in enumerate(ordered):
        reasons = [Reason(NEWEST, "")] if position == 0 else []
        for rule, count in policy.rules():
            if not left[rule]:
                continue
            if rule == "keep_last":
                reasons.append(Reason(rule, f"#{position + 1} of {count}"))
                left[rule] -= 1
                continue
            period = PERIODS[rule](backup.finished_at)
            if last.get(rule) != period.label:
                last[rule] = period.label
                left[rule] -= 1
                sure = _periods_later(period, rule, count) if period.end <= now else None
                reasons.append(Reason(rule, period.label, sure))
        decisions.append(Decision(backup, tuple(reasons)))
    return decisions


@dataclass(frozen=True)
class Pruning:
    """What pruning did: the backups it deleted, those it spared because they are being read, and why it did not
    prune (or stopped) if it did not finish."""

    policy: RetentionPolicy
    pruned: list[str] = field(default_factory=list)
    spared: dict[str, list[str]] = field(default_factory=dict)
    """backup id → the command ids reading it"""
    problem: str | None = None
