"""`deploy.freezes` in the configuration: read once at the edge, every mistake named with what was meant."""

from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config_uncached
from shared.errors import ConfigurationError

GOOD = """
deploy:
  freezes:
    - {env: production, cron: "0 16 * * FRI", duration: 64h, timezone: Europe/Berlin,
       reason: "weekend", override: {users: [U0LEAD], groups: [S0SRE]}}
    - {env: staging, cron: "0 22 * * *", duration: 10h, reason: nightly}
"""


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_config_uncached(text, origin="slashops.yaml", known_commands=CATALOG.names())


def test_the_issue_example_reads_as_written() -> None:
    weekend, nightly = parse(GOOD).deploy.freezes
    assert (weekend.env, weekend.cron, weekend.duration, weekend.timezone) == (
        "production",
        "0 16 * * FRI",
        64 * 3600,
        "Europe/Berlin",
    )
    assert weekend.override is not None and weekend.override.users == ("U0LEAD",)
    assert weekend.describe() == "0 16 * * FRI Europe/Berlin for 64h"
    assert (nightly.timezone, nightly.override) == ("UTC", None)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('{env: prod, cron: "0 16 * * FRI", duration: 64h, reason: w}', "did you mean 'production'?"),
        ('{env: production, cron: "0 16 * * FRI", duration: 64h, timezone: Europe/Berln, reason: w}',
         "unknown time zone 'Europe/Berln': use an IANA name such as Europe/Berlin, America/New_York or UTC; "
         "did you mean 'Europe/Berlin'?"),
        ('{env: production, cron: "0 16 * * FRI", duraton: 64h, reason: w}', "unknown key 'duraton'; did you mean "
         "'duration'?"),
        ('{env: production, cron: "0 16 * * FRY", duration: 64h, reason: w}', "'0 16 * * FRY' is not a valid cron"),
        ('{env: production, cron: "0 16 * FRI", duration: 64h, reason: w}', "is not a five-field cron expression"),
        ('{env: production, cron: "0 16 * * FRI", duration: 64, reason: w}', "a duration such as 2h"),
        ('{env: production, cron: "0 16 * * FRI", duration: 1.5h, reason: w}', "is not a duration"),
        ('{env: production, cron: "0 16 * * FRI", duration: 800h, reason: w}', "at most 31d"),
        ('{env: production, cron: "0 16 * * FRI", duration: 64h}', "reason: missing"),
        ('{env: production, cron: "0 16 * * FRI", duration: 64h, reason: w, override: {}}', "list who may approve"),
        ('{env: production, cron: "0 16 * * FRI", duration: 64h, reason: w, override: {users: []}}', "empty"),
    ],
)  # fmt: skip
def test_a_mistake_in_a_freeze_is_named_with_where_and_what_was_meant(entry: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse(f"deploy:\n  freezes:\n    - {entry}\n")
    assert "deploy.freezes.0" in str(raised.value)
    assert expected in str(raised.value).replace("\\", "")
