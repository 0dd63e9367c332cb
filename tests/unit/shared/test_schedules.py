"""Cron in a time zone, rates and windows (shared/schedules.py): DST changes, midnight, overlaps and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.schedules import Cron, Occurrence, ScheduleError, Window, parse_rate, zone


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def fires(cron: Cron, after: datetime, count: int) -> list[datetime]:
    return list(islice(cron.fires_after(after), count))


def test_a_cron_is_read_in_its_time_zone_all_year() -> None:
    friday = Cron("0 16 * * FRI", "Europe/Berlin")
    assert friday.next_after(utc(2026, 1, 5)) == utc(2026, 1, 9, 15)  # CET: UTC+1
    assert friday.next_after(utc(2026, 7, 1)) == utc(2026, 7, 3, 14)  # CEST: UTC+2


def test_utc_is_the_default_time_zone() -> None:
    assert Cron("0 3 * * *").next_after(utc(2026, 5, 1, 12)) == utc(2026, 5, 2, 3)


def test_a_time_skipped_when_clocks_go_forward_fires_once_at_the_next_minute_that_exists() -> None:
    # Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that night.
    nightly = Cron("30 2 * * *", "Europe/Berlin")
    expected = [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)]
    assert fires(nightly, utc(2026, 3, 27, 12), 3) == expected


def test_a_fixed_time_repeated_when_clocks_go_back_fires_once_the_first_time() -> None:
    # Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice (00:30 and 01:30 UTC).
    nightly = Cron("30 2 * * *", "Europe/Berlin")
    assert fires(nightly, utc(2026, 10, 23, 12), 3) == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]
    assert list(islice(nightly.fires_before(utc(2026, 10, 26, 12)), 2)) == [utc(2026, 10, 26, 1, 30),
                                                                           utc(2026, 10, 25, 0, 30)]  # fmt: skip


def test_an_hourly_cron_keeps_its_rhythm_through_the_repeated_hour() -> None:
    hourly = Cron("0 * * * *", "Europe/Berlin")
    assert fires(hourly, utc(2026, 10, 24, 23, 30), 4) == [utc(2026, 10, 25, h) for h in range(4)]


def test_new_york_changes_on_its_own_dates() -> None:
    # New York, 2026-03-08 02:00 EST → 03:00 EDT (Berlin changes three weeks later).
    morning = Cron("0 9 * * *", "America/New_York")
    assert fires(morning, utc(2026, 3, 7), 2) == [utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)]


def test_last_at_or_before_includes_the_instant_itself() -> None:
    nightly = Cron("0 3 * * *")
    assert nightly.last_at_or_before(utc(2026, 5, 2, 3)) == utc(2026, 5, 2, 3)
    assert nightly.last_at_or_before(utc(2026, 5, 2, 2, 59)) == utc(2026, 5, 1, 3)


WEEKEND = Window(Cron("0 16 * * FRI", "Europe/Berlin"), timedelta(hours=64))


@pytest.mark.parametrize(
    ("friday", "monday_end"),
    [
        (utc(2026, 3, 27, 15), utc(2026, 3, 30, 6)),  # spring forward on Sunday: ends Monday 08:00 CEST
        (utc(2026, 10, 23, 14), utc(2026, 10, 26, 7)),  # fall back on Sunday: ends Monday 08:00 CET
        (utc(2026, 6, 5, 14), utc(2026, 6, 8, 6)),  # no change: 64 h exactly
    ],
)
def test_a_window_lasts_its_duration_on_the_wall_clock_across_dst(friday: datetime, monday_end: datetime) -> None:
    assert WEEKEND.active_at(friday + timedelta(hours=30)) == Occurrence(friday, monday_end)
    assert WEEKEND.active_at(monday_end - timedelta(seconds=1)) == Occurrence(friday, monday_end)
    assert WEEKEND.active_at(monday_end) is None
    assert WEEKEND.active_at(friday - timedelta(seconds=1)) is None
    assert WEEKEND.active_at(friday) == Occurrence(friday, monday_end)


def test_a_window_across_midnight_is_open_on_both_days() -> None:
    night = Window(Cron("0 22 * * *", "UTC"), timedelta(hours=4))
    assert night.active_at(utc(2026, 12, 31, 23, 59)) == Occurrence(utc(2026, 12, 31, 22), utc(2027, 1, 1, 2))
    assert night.active_at(utc(2027, 1, 1, 1, 59)) == Occurrence(utc(2026, 12, 31, 22), utc(2027, 1, 1, 2))
    assert night.active_at(utc(2027, 1, 1, 2)) is None
    assert night.active_at(utc(2027, 1, 1, 21, 59)) is None


def test_overlapping_occurrences_report_the_one_that_ends_last() -> None:
    daily_for_two_days = Window(Cron("0 0 * * *"), timedelta(hours=48))
    assert daily_for_two_days.active_at(utc(2026, 5, 3, 12)) == Occurrence(utc(2026, 5, 3), utc(2026, 5, 5))


def test_upcoming_lists_the_next_occurrences_after_the_instant() -> None:
    assert WEEKEND.upcoming(utc(2026, 12, 6, 12), 2) == [
        Occurrence(utc(2026, 12, 11, 15), utc(2026, 12, 14, 7)),
        Occurrence(utc(2026, 12, 18, 15), utc(2026, 12, 21, 7)),
    ]


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    hours=st.integers(min_value=1, max_value=200),
    zone_name=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
)
def test_active_at_agrees_with_walking_every_start(moment: datetime, hours: int, zone_name: str) -> None:
    """An independent reading: the window is open iff some start in the last `hours` + 3 h still covers `moment`."""
    window = Window(Cron("15 16 * * *", zone_name), timedelta(hours=hours))
    expected: Occurrence | None = None
    for start in window.cron.fires_after(moment - timedelta(hours=hours + 30)):
        if start > moment:
            break
        occurrence = window.occurrence_from(start)
        if occurrence.contains(moment) and (expected is None or occurrence.end > expected.end):
            expected = occurrence
    assert window.active_at(moment) == expected


@pytest.mark.parametrize("expression", ["* * * *", "0 16 * * FRI *", "61 * * * *", "0 25 * * *", "nonsense", ""])
def test_a_bad_cron_expression_is_refused_saying_what_is_expected(expression: str) -> None:
    with pytest.raises(ScheduleError, match="cron expression"):
        Cron(expression)


@pytest.mark.parametrize("name", ["Europe/Atlantis", "", "../etc/passwd", "/etc/localtime"])
def test_an_unknown_time_zone_is_refused_naming_the_expected_form(name: str) -> None:
    with pytest.raises(ScheduleError, match="IANA"):
        zone(name)


@pytest.mark.parametrize(("text", "seconds"), [("1m", 60), ("6h", 21600), ("1d", 86400), (" 15M ", 900)])
def test_rates_in_minutes_hours_or_days(text: str, seconds: int) -> None:
    assert parse_rate(text) == seconds


@pytest.mark.parametrize("text", ["0m", "1s", "1.5h", "-1d", "h", "1w", ""])
def test_a_bad_rate_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError, match="not a rate"):
        parse_rate(text)


def test_a_window_needs_a_positive_duration() -> None:
    with pytest.raises(ScheduleError, match="positive"):
        Window(Cron("0 0 * * *"), timedelta(0))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Cron("0 0 * * *").next_after(datetime(2026, 1, 1))  # noqa: DTZ001
