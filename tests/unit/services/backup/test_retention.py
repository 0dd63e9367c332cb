"""The retention policy (`services/backup/retention.py`) against an independent reading of restic's rules, over
generated histories of backups, and on a history worked out by hand."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.backup.retention import apply_policy
from shared.config.backup import RetentionPolicy

START = datetime(2025, 12, 20, tzinfo=UTC)


@dataclass(frozen=True)
class Backup:
    backup_id: str
    finished_at: datetime


#: restic's calendar buckets, read independently: `keep_daily` groups by the UTC date, `keep_weekly` by ISO week
BUCKETS: dict[str, Callable[[datetime], Hashable]] = {
    "keep_hourly": lambda at: (at.date(), at.hour),
    "keep_daily": lambda at: at.date(),
    "keep_weekly": lambda at: at.isocalendar()[:2],
    "keep_monthly": lambda at: (at.year, at.month),
    "keep_yearly": lambda at: at.year,
}


def restic_keeps(policy: RetentionPolicy, backups: list[Backup]) -> set[str]:
    """As restic's documentation states the rules: keep_last N keeps the N newest; keep_daily N keeps, for the last
    N days which have one or more backups, the newest backup of that day (and so on); a backup any rule keeps stays.
    With no rule, everything is kept."""
    if not any(count for _, count in policy.rules()):
        return {backup.backup_id for backup in backups}
    newest_first = sorted(backups, key=lambda b: (b.finished_at, b.backup_id), reverse=True)
    kept = {backup.backup_id for backup in newest_first[: policy.keep_last]}
    for rule, bucket in BUCKETS.items():
        count = getattr(policy, rule)
        days_with_backups = sorted({bucket(b.finished_at) for b in backups}, reverse=True)[:count]
        for period in days_with_backups:
            kept.add(next(b.backup_id for b in newest_first if bucket(b.finished_at) == period))
    return kept | {newest_first[0].backup_id}


counts = st.integers(min_value=0, max_value=6)
policies = st.builds(
    RetentionPolicy,
    keep_last=counts,
    keep_hourly=counts,
    keep_daily=counts,
    keep_weekly=counts,
    keep_monthly=counts,
    keep_yearly=counts,
)
#: clustered histories: several backups an hour, gaps of days and months, over about two years
offsets = st.lists(
    st.one_of(st.integers(0, 3 * 3600), st.integers(0, 40 * 86400), st.integers(0, 800 * 86400)),
    min_size=1,
    max_size=60,
)


def _history(seconds: list[int]) -> list[Backup]:
    return [Backup(f"orders-{n:03d}", START + timedelta(seconds=s)) for n, s in enumerate(seconds)]


NOW = START + timedelta(days=900)


@settings(max_examples=400, deadline=None)
@given(policy=policies, seconds=offsets)
def test_the_policy_keeps_exactly_what_restics_rules_say(policy: RetentionPolicy, seconds: list[int]) -> None:
    backups = _history(seconds)
    decisions = apply_policy(policy, backups, now=NOW)

    assert {d.backup.backup_id for d in decisions if d.kept} == restic_keeps(policy, backups)
    assert sorted(d.backup.backup_id for d in decisions) == sorted(b.backup_id for b in backups)
    assert decisions[0].kept and decisions[0].backup.finished_at == max(b.finished_at for b in backups)


@settings(max_examples=200, deadline=None)
@given(policy=policies, seconds=offsets)
def test_pruning_what_the_policy_lets_go_and_applying_it_again_prunes_nothing(
    policy: RetentionPolicy, seconds: list[int]
) -> None:
    kept = [d.backup for d in apply_policy(policy, _history(seconds), now=NOW) if d.kept]
    assert all(d.kept for d in apply_policy(policy, kept, now=NOW))


@settings(max_examples=200, deadline=None)
@given(policy=policies, seconds=offsets, later=st.lists(st.integers(1, 400 * 86400), max_size=40))
def test_a_backup_kept_until_a_date_survives_any_backups_made_before_that_date(
    policy: RetentionPolicy, seconds: list[int], later: list[int]
) -> None:
    now = START + timedelta(days=801)  # after every generated backup
    decisions = apply_policy(policy, _history(seconds), now=now)
    promised = {d.backup.backup_id: d.until_at_least for d in decisions if d.until_at_least is not None}
    for backup_id, until in promised.items():
        newer = [Backup(f"new-{n:03d}", now + timedelta(seconds=s)) for n, s in enumerate(later)]
        newer = [backup for backup in newer if backup.finished_at < until]
        again = apply_policy(policy, [d.backup for d in decisions if d.kept] + newer, now=until)
        assert backup_id in {d.backup.backup_id for d in again if d.kept}


def test_the_issues_policy_on_a_history_worked_out_by_hand() -> None:
    """orders: keep_last 3, keep_daily 7, keep_weekly 4, keep_monthly 6 — one backup a day at 02:00 and a second
    one at 14:00 on the 1st of each month, from 2026-01-01 to 2026-12-06 (a Sunday)."""
    policy = RetentionPolicy(keep_last=3, keep_daily=7, keep_weekly=4, keep_monthly=6)
    day = datetime(2026, 1, 1, 2, tzinfo=UTC)
    backups = []
    while day <= datetime(2026, 12, 6, 2, tzinfo=UTC):
        backups.append(Backup(f"{day:%m%d}-02", day))
        if day.day == 1:
            backups.append(Backup(f"{day:%m%d}-14", day + timedelta(hours=12)))
        day += timedelta(days=1)

    decisions = apply_policy(policy, backups, now=datetime(2026, 12, 6, 3, tzinfo=UTC))
    kept = {d.backup.backup_id: [r.rule for r in d.reasons] for d in decisions if d.kept}

    assert kept == {
        "1206-02": ["newest", "keep_last", "keep_daily", "keep_weekly", "keep_monthly"],
        "1205-02": ["keep_last", "keep_daily"],
        "1204-02": ["keep_last", "keep_daily"],
        "1203-02": ["keep_daily"],
        "1202-02": ["keep_daily"],
        "1201-14": ["keep_daily"],  # the newest of the 1st; 1201-02 is not
        "1130-02": ["keep_daily", "keep_monthly"],  # a Monday: this week's newest is 1206-02
        "1129-02": ["keep_weekly"],  # the Sundays that end the three weeks before
        "1122-02": ["keep_weekly"],
        "1115-02": ["keep_weekly"],
        "1031-02": ["keep_monthly"],
        "0930-02": ["keep_monthly"],
        "0831-02": ["keep_monthly"],
        "0731-02": ["keep_monthly"],
    }
    until = {d.backup.backup_id: d.until_at_least for d in decisions if d.kept}
    assert until["1130-02"] == datetime(2027, 5, 1, tzinfo=UTC)  # November's, as one of 6 months: May 2027
    assert until["1203-02"] == datetime(2026, 12, 10, tzinfo=UTC)  # one of 7 days
    assert until["1206-02"] is None  # today's newest: a later backup today takes its place
    assert until["1205-02"] == datetime(2026, 12, 12, tzinfo=UTC)


def test_a_policy_that_keeps_everything_keeps_everything() -> None:
    backups = _history([0, 10, 86400 * 3])
    assert all(d.kept for d in apply_policy(RetentionPolicy(), backups, now=NOW))


def test_keep_last_one_keeps_only_the_newest_even_when_two_finish_at_the_same_time() -> None:
    backups = [Backup("orders-b", START), Backup("orders-a", START), Backup("orders-c", START - timedelta(1))]
    decisions = apply_policy(RetentionPolicy(keep_last=1), backups, now=NOW)
    assert [(d.backup.backup_id, d.kept) for d in decisions] == [
        ("orders-b", True),
        ("orders-a", False),
        ("orders-c", False),
    ]
