"""`backup.retention`: per-database policies over a default, validated like the rest of the configuration — any
mistake refuses the whole configuration, so nothing is pruned on a policy that could not be read."""

from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG
from shared.config.backup import RetentionPolicy
from shared.config.loader import parse_config_uncached
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError

RULES = "access:\n  - {command: '*'}\n"


def _config(backup: str) -> SlashopsConfig:
    return parse_config_uncached(RULES + backup, origin="test", known_commands=CATALOG.names())


def test_a_databases_own_policy_replaces_the_default_and_the_others_get_the_default() -> None:
    config = _config(
        "backup:\n  retention:\n    default: {keep_last: 7}\n"
        "    orders: {keep_last: 3, keep_daily: 7, keep_weekly: 4, keep_monthly: 6}\n"
    )
    assert config.backup.retention_for("orders") == RetentionPolicy(
        keep_last=3, keep_daily=7, keep_weekly=4, keep_monthly=6
    )
    assert config.backup.retention_for("billing") == RetentionPolicy(keep_last=7)


def test_without_a_policy_nothing_is_pruned() -> None:
    assert _config("backup:\n  retention:\n    orders: {keep_last: 3}\n").backup.retention_for("billing") is None
    assert _config("backup: {}\n").backup.retention_for("orders") is None


@pytest.mark.parametrize(
    ("retention", "says"),
    [
        ("orders: {keep_last: -1}", "greater than or equal to 0"),
        ("orders: {keep_last: '3'}", "keep_last"),
        ("orders: {keep_last: 2.5}", "keep_last"),
        ("orders: {keep_last: true}", "keep_last"),
        ("orders: {keep_dayly: 7}", "keep_dayly"),
        ("orders: [3]", "orders"),
        ("Orders!: {keep_last: 3}", "not a database name"),
    ],
)
def test_an_unreadable_policy_refuses_the_whole_configuration(retention: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        _config(f"backup:\n  retention:\n    {retention}\n")


def test_a_policy_for_a_database_the_list_does_not_name_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'billing', which backup.databases does not list"):
        _config("backup:\n  databases: [orders]\n  retention:\n    billing: {keep_last: 3}\n")
    assert _config("backup:\n  databases: [orders]\n  retention:\n    orders: {keep_last: 3}\n")


def test_a_policy_describes_its_rules_in_the_order_restic_applies_them() -> None:
    assert RetentionPolicy(keep_monthly=6, keep_last=3).describe() == "keep_last 3, keep_monthly 6"
    assert RetentionPolicy().describe() == "keep everything" and RetentionPolicy().keeps_everything
