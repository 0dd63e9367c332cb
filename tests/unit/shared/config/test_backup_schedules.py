"""`backup.schedules`: what an entry may say, the clear error for each mistake, and the names it goes by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config_uncached
from shared.config.model import SlashopsConfig
from shared.config.schedules import ScheduledRun
from shared.errors import ConfigurationError

RULES = "access:\n  - {command: '*'}\n"
ISSUE_EXAMPLE = """
backup:
  schedules:
    - {database: orders, cron: "0 3 * * *", timezone: Europe/Berlin, channel: C0DBOPS}
    - {database: shop, rate: 6h, channel: C0DBOPS}
"""


def _config(backup: str) -> SlashopsConfig:
    return parse_config_uncached(RULES + backup, origin="test", known_commands=CATALOG.names())


def _entry(**fields: object) -> ScheduledRun:
    return ScheduledRun.model_validate({"database": "orders", "channel": "C0DBOPS", **fields})


def test_the_issues_example_reads_as_two_quiet_backup_schedules() -> None:
    nightly, six_hourly = _config(ISSUE_EXAMPLE).backup.schedules
    assert (nightly.kind, nightly.database, nightly.cron, nightly.timezone) == (
        "backup",
        "orders",
        "0 3 * * *",
        "Europe/Berlin",
    )
    assert (six_hourly.rate, six_hourly.timezone, six_hourly.notify) == ("6h", "UTC", "failures")
    assert nightly.label == "orders@0 3 * * * Europe/Berlin" and six_hourly.label == "shop@every 6h"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{database: orders, channel: C0DBOPS}", "either `cron`"),
        ("{database: orders, cron: '0 3 * * *', rate: 1d, channel: C0DBOPS}", "not both"),
        ("{database: orders, cron: '0 3 * *', channel: C0DBOPS}", "five-field cron"),
        ("{database: orders, cron: '61 3 * * *', channel: C0DBOPS}", "not a valid cron"),
        (
            "{database: orders, cron: '0 3 * * *', timezone: Europe/Berln, channel: C0DBOPS}",
            "did you mean 'Europe/Berlin'?",
        ),
        ("{database: orders, rate: 6h, timezone: Europe/Berlin, channel: C0DBOPS}", "`timezone` goes with `cron`"),
        ("{database: orders, rate: 90s, channel: C0DBOPS}", "minutes, hours or days"),
        ("{database: orders, rate: 0h, channel: C0DBOPS}", "not a rate"),
        ("{database: orders, rate: 6h, channel: '#dbops'}", "not a channel ID"),
        ("{database: orders, rate: 6h}", "channel"),
        ("{database: orders, rate: 6h, channel: C0DBOPS, notify: never}", "notify"),
        ("{database: orders, rate: 6h, channel: C0DBOPS, name: Nightly Run}", "lowercase"),
        ("{database: Orders!, rate: 6h, channel: C0DBOPS}", "not a database name"),
        ("{database: orders, rate: 6h, channel: C0DBOPS, kind: drop}", "kind"),
        ("{database: orders, rate: 6h, channel: C0DBOPS, every: 6h}", "unknown key"),
        ("{database: orders, cron: '0 3 1 * MON', channel: C0DBOPS}", "both a day of the month and a day of the week"),
    ],
)
def test_a_mistake_makes_the_configuration_invalid_and_says_what_is_wrong(entry: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _config(f"backup:\n  schedules: [{entry}]\n")
    assert problem in str(raised.value)


def test_a_schedule_names_a_database_the_configuration_lists() -> None:
    with pytest.raises(ConfigurationError) as raised:
        _config("backup:\n  databases: [orders]\n  schedules: [{database: ordres, rate: 1d, channel: C0DBOPS}]\n")
    assert "'ordres', which backup.databases does not list (orders); did you mean 'orders'?" in str(raised.value)


def test_two_entries_with_one_name_are_refused() -> None:
    twice = "{database: orders, rate: 1d, channel: C0DBOPS}"
    with pytest.raises(ConfigurationError) as raised:
        _config(f"backup:\n  schedules: [{twice}, {twice}]\n")
    assert "two entries are named 'orders@every 1d'" in str(raised.value)
    named = "{database: orders, rate: 1d, channel: C0DBOPS, name: second}"
    assert len(_config(f"backup:\n  schedules: [{twice}, {named}]\n").backup.schedules) == 2


def test_names_are_stable_and_fit_eventbridge_schedulers_alphabet() -> None:
    unnamed = _entry(cron="0  3 * * *")
    assert unnamed.label == "orders@0 3 * * *"  # spacing does not change the name
    assert unnamed.aws_name == _entry(cron="0 3 * * *").aws_name != _entry(cron="0 4 * * *").aws_name
    assert unnamed.aws_name.startswith("backup-orders-")
    assert _entry(rate="6h", name="orders-6h").aws_name == "backup-orders-6h"
    assert _entry(rate="6h", name="orders-6h", kind="verify").aws_name == "verify-orders-6h"
    longest = _entry(database="d" * 63, rate="1d")
    import re

    assert re.fullmatch(r"[0-9a-zA-Z_.-]{1,64}", longest.aws_name)


def test_the_period_is_the_rate_or_the_widest_gap_of_the_cron() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert _entry(rate="6h").period(now) == timedelta(hours=6)
    assert _entry(cron="0 3 * * *").period(now) == timedelta(days=1)
    assert _entry(cron="0 3 * * MON-FRI").period(now) == timedelta(days=3)  # over the weekend
    assert _entry(cron="0 3 * * *", timezone="Europe/Berlin").period(now) == timedelta(hours=25)  # DST ends
    assert _entry(rate="1d").overdue_after(now) == timedelta(days=2)
