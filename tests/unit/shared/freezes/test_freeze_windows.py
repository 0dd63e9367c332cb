"""Freeze windows from the configuration, evaluated at instants around DST changes (Berlin, New York) and midnight:
what `deploy.freezes` means to a deploy at that instant (`shared.freezes.models`), and how its end is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.commands.catalog import DEPLOY_ENVIRONMENTS
from shared.config.deploy import FREEZE_ENVIRONMENTS, FreezeWindow
from shared.freezes.models import EVERY_CLIENT, Freeze, active, as_lock, upcoming, verdict
from shared.locks.models import Lock

LEADS = {"users": ["U0LEAD"], "groups": ["S0SRE"]}


def window(cron: str, duration: str, timezone: str = "UTC", env: str = "production", **extra: Any) -> FreezeWindow:
    return FreezeWindow.model_validate(
        {"env": env, "cron": cron, "duration": duration, "timezone": timezone, "reason": "weekend", **extra}
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def frozen_at(windows: list[FreezeWindow], moment: datetime, env: str = "production") -> Freeze | None:
    found = verdict(active(windows, [], moment, env))
    return None if found is None else found.freeze


WEEKEND = window("0 16 * * FRI", "64h", "Europe/Berlin", override=LEADS)


@pytest.mark.parametrize(
    ("moment", "frozen"),
    [
        (utc(2026, 12, 4, 14, 59, 59), False),  # Fri 15:59:59 Berlin (CET, UTC+1)
        (utc(2026, 12, 4, 15, 0), True),  # Fri 16:00 Berlin
        (utc(2026, 12, 5, 23, 0), True),  # Sun 00:00 Berlin: across midnight
        (utc(2026, 12, 7, 6, 59, 59), True),  # Mon 07:59:59 Berlin
        (utc(2026, 12, 7, 7, 0), False),  # Mon 08:00 Berlin: open again
    ],
)
def test_a_winter_weekend_in_berlin_is_friday_16_to_monday_08_local(moment: datetime, frozen: bool) -> None:
    assert (frozen_at([WEEKEND], moment) is not None) is frozen


def test_the_weekend_clocks_go_forward_in_berlin_still_ends_at_08_local_after_63_hours() -> None:
    # 2027-03-28 02:00 CET → 03:00 CEST. Fri 16:00 CET = 15:00 UTC; Mon 08:00 CEST = 06:00 UTC.
    assert frozen_at([WEEKEND], utc(2027, 3, 26, 14, 59)) is None
    freeze = frozen_at([WEEKEND], utc(2027, 3, 28, 1, 30))  # 03:30 CEST, just after the change
    assert freeze is not None
    assert (freeze.start, freeze.end) == (utc(2027, 3, 26, 15, 0), utc(2027, 3, 29, 6, 0))
    assert freeze.end - freeze.start == timedelta(hours=63)
    assert frozen_at([WEEKEND], utc(2027, 3, 29, 5, 59)) is not None
    assert frozen_at([WEEKEND], utc(2027, 3, 29, 6, 0)) is None  # 08:00 CEST, not 09:00
    assert freeze.until == "Mon 2027-03-29 08:00 Europe/Berlin (06:00 UTC)"


def test_the_weekend_clocks_go_back_in_berlin_still_ends_at_08_local_after_65_hours() -> None:
    # 2026-10-25 03:00 CEST → 02:00 CET. Fri 16:00 CEST = 14:00 UTC; Mon 08:00 CET = 07:00 UTC.
    freeze = frozen_at([WEEKEND], utc(2026, 10, 25, 0, 30))  # 02:30 CEST, the first of two
    assert freeze is not None
    assert (freeze.start, freeze.end) == (utc(2026, 10, 23, 14, 0), utc(2026, 10, 26, 7, 0))
    assert frozen_at([WEEKEND], utc(2026, 10, 26, 6, 30)) is not None  # 07:30 CET: an hour later in UTC than summer
    assert frozen_at([WEEKEND], utc(2026, 10, 26, 7, 0)) is None
    assert frozen_at([WEEKEND], utc(2026, 10, 23, 13, 59)) is None  # 15:59 CEST


NIGHTS = window("0 22 * * *", "10h", "America/New_York")


@pytest.mark.parametrize(
    ("moment", "frozen"),
    [
        (utc(2027, 3, 14, 2, 59), False),  # Sat 21:59 EST
        (utc(2027, 3, 14, 3, 0), True),  # Sat 22:00 EST
        (utc(2027, 3, 14, 5, 0), True),  # Sun 00:00 EST: midnight
        (utc(2027, 3, 14, 7, 30), True),  # 03:30 EDT: after 02:00 EST became 03:00 EDT
        (utc(2027, 3, 14, 11, 59), True),  # 07:59 EDT
        (utc(2027, 3, 14, 12, 0), False),  # 08:00 EDT: 9 hours after it opened, 10 on the wall clock
        (utc(2026, 11, 1, 12, 59), True),  # 07:59 EST after clocks went back (opened 22:00 EDT = 02:00 UTC)
        (utc(2026, 11, 1, 13, 0), False),  # 08:00 EST: 11 hours after it opened
    ],
)
def test_a_nightly_window_in_new_york_crosses_midnight_and_both_dst_changes(moment: datetime, frozen: bool) -> None:
    assert (frozen_at([NIGHTS], moment) is not None) is frozen


def test_a_window_that_opens_at_a_time_the_spring_change_skips_opens_at_03_00() -> None:
    skipped = window("30 2 * * SUN", "1h", "America/New_York")
    # 2027-03-14 02:30 EST does not exist: it opens at 03:00 EDT (07:00 UTC) and ends an hour later on the wall.
    assert frozen_at([skipped], utc(2027, 3, 14, 6, 59)) is None
    freeze = frozen_at([skipped], utc(2027, 3, 14, 7, 30))
    assert freeze is not None and freeze.end == utc(2027, 3, 14, 8, 0)


def test_a_utc_window_across_midnight_shows_the_next_day() -> None:
    late = window("0 23 * * *", "2h")
    assert frozen_at([late], utc(2026, 12, 6, 22, 59)) is None
    freeze = frozen_at([late], utc(2026, 12, 7, 0, 30))
    assert freeze is not None and freeze.until == "Mon 2026-12-07 01:00 UTC"
    assert frozen_at([late], utc(2026, 12, 7, 1, 0)) is None


def test_an_end_on_another_utc_day_names_the_utc_day_too() -> None:
    evening = window("0 16 * * SAT", "4h", "America/New_York")  # ends 20:00 EST = 01:00 UTC on Sunday
    freeze = frozen_at([evening], utc(2026, 12, 5, 23, 0))
    assert freeze is not None
    assert freeze.until == "Sat 2026-12-05 20:00 America/New_York (Sun 01:00 UTC)"


def test_a_window_of_another_environment_freezes_nothing_here() -> None:
    assert frozen_at([window("0 16 * * FRI", "64h", env="staging")], utc(2026, 12, 5, 12, 0)) is None


def test_upcoming_lists_the_next_opening_within_the_horizon() -> None:
    soon = upcoming([WEEKEND], utc(2026, 12, 7, 8, 0), within=timedelta(days=7))
    assert [freeze.start for freeze in soon] == [utc(2026, 12, 11, 15, 0)]
    assert upcoming([WEEKEND], utc(2026, 12, 7, 8, 0), within=timedelta(days=1)) == []


def adhoc(env: str = "production", *, until: datetime) -> Lock:
    freeze = Freeze(env=env, reason="incident 42", start=until - timedelta(hours=2), end=until, by="U0ALICE")
    return as_lock(freeze)


def test_an_adhoc_freeze_refuses_even_inside_a_window_with_an_override() -> None:
    now = utc(2026, 12, 5, 12, 0)
    found = verdict(active([WEEKEND], [adhoc(until=now + timedelta(hours=1))], now, "production"))
    assert found is not None and found.override is None and found.freeze.by == "U0ALICE"
    assert as_lock(found.freeze).client == EVERY_CLIENT


def test_an_expired_adhoc_freeze_or_one_of_another_environment_freezes_nothing() -> None:
    now = utc(2026, 12, 2, 12, 0)
    assert active([], [adhoc(until=now)], now, "production") == []
    assert active([], [adhoc("staging", until=now + timedelta(hours=1))], now, "production") == []


def test_overlapping_windows_hold_for_one_override_only_when_they_name_the_same_approvers() -> None:
    now = utc(2026, 12, 5, 12, 0)
    same = window("0 0 * * SAT", "1d", override=LEADS)
    held = verdict(active([WEEKEND, same], [], now, "production"))
    assert held is not None and held.override is not None and held.override.users == ("U0LEAD",)
    assert held.freeze.end == utc(2026, 12, 7, 7, 0)  # the one ending last is named
    other = window("0 0 * * SAT", "1d", override={"users": ["U0OTHER"]})
    refused = verdict(active([WEEKEND, other], [], now, "production"))
    assert refused is not None and refused.override is None and refused.overlapping
    plain = window("0 0 * * SAT", "1d")
    assert verdict(active([WEEKEND, plain], [], now, "production")).override is None  # type: ignore[union-attr]


def test_freeze_environments_are_the_deploy_environments() -> None:
    assert FREEZE_ENVIRONMENTS == DEPLOY_ENVIRONMENTS
