"""`backup.restore_into` (which databases another database's backups may be restored into) and `backup.verify`
(scheduled verifications: read and checked here; the scheduler runs them)."""

from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config_uncached
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError

RULES = "access:\n  - {command: '*'}\n"


def _config(backup: str) -> SlashopsConfig:
    return parse_config_uncached(RULES + backup, origin="test", known_commands=CATALOG.names())


def test_a_database_may_be_restored_from_its_own_backups_and_from_the_sources_listed_for_it() -> None:
    config = _config("backup:\n  restore_into: {orders: [orders_staging]}\n").backup
    assert config.may_restore_into("orders", "orders")
    assert config.may_restore_into("orders", "orders_staging")
    assert not config.may_restore_into("orders_staging", "orders")  # one way only
    assert not config.may_restore_into("billing", "orders_staging")


def test_without_restore_into_no_restore_crosses_databases() -> None:
    config = _config("backup: {}\n").backup
    assert config.may_restore_into("billing", "billing") and not config.may_restore_into("payroll", "billing")


@pytest.mark.parametrize(
    ("backup", "problem"),
    [
        ("backup:\n  databases: [orders]\n  restore_into: {orders: [staging]}\n", "'staging'"),
        ("backup:\n  restore_into: {orders: [Bad-Name]}\n", "not a database name"),
        ("backup:\n  verify: [{database: orders, cron: 'every day', channel: C0DBOPS}]\n", "five-field cron"),
        ("backup:\n  verify: [{database: orders, channel: C0DBOPS}]\n", "cron"),
        (
            "backup:\n  verify: [{database: orders, cron: '0 4 * * *', timezone: Mars/Base, channel: C0DBOPS}]\n",
            "time zone",
        ),  # fmt: skip
        (
            "backup:\n  databases: [orders]\n  verify: [{database: billing, cron: '0 4 * * *', channel: C0DBOPS}]\n",
            "'billing'",
        ),  # fmt: skip
        ("backup:\n  verify: [{database: orders, cron: '0 4 * * *'}]\n", "channel"),
        (
            "backup:\n  verify: [{database: orders, cron: '0 4 * * *', channel: C0DBOPS, kind: backup}]\n",
            "backup.schedules",
        ),  # fmt: skip
    ],
)
def test_a_mistake_in_restore_into_or_verify_refuses_the_whole_configuration(backup: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        _config(backup)


def test_scheduled_verifications_are_read_with_their_time_zone() -> None:
    config = _config(
        "backup:\n  verify:\n    - {database: orders, cron: '0 4 * * *', timezone: Europe/Berlin, channel: C0DBOPS}\n"
    )
    [schedule] = config.backup.verify
    assert (schedule.database, schedule.cron, schedule.timezone) == ("orders", "0 4 * * *", "Europe/Berlin")
    assert (schedule.kind, schedule.channel) == ("verify", "C0DBOPS")
    assert config.backup.scheduled_runs == (schedule,)  # fired, kept in step and watched like backup.schedules
