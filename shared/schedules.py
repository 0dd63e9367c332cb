"""When things happen on a clock: five-field cron in an IANA time zone, a fixed rate, and windows that last a while.

Freeze windows (`deploy.freezes`) and backup schedules (`backup.schedules`) are written the same way, so they are
read by one module. The cron arithmetic is croniter's (a well-kept library; hand-written cron is where DST bugs
live); what this module adds is the meaning slashops gives to it, tested across DST changes and midnight:

- A cron expression is read in its `timezone` (default UTC): `0 16 * * FRI` in `Europe/Berlin` is 16:00 Berlin
  time all year, 15:00 UTC in winter and 14:00 UTC in summer.
- A time that does not exist on the day clocks go forward (02:30 in Berlin on the last Sunday of March) fires
  once, at the first minute that does exist after it (03:00); a fixed time that happens twice when clocks go back
  fires once, the first time (as in Vixie cron; an expression whose hour is `*` or `*/n` keeps its rhythm).
- A window's `duration` is counted on the wall clock of its time zone: a 64 h freeze from Friday 16:00 ends on
  Monday 08:00 local time, whatever DST did over the weekend (what a team that wrote "until Monday morning"
  means).

Every instant in and out of this module is an aware datetime; results are in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_LOOKBACK = 1000
"""At most this many earlier fire times are examined to find the window an instant is in (bounds a config that
fires every minute with a week-long duration)."""
_FIVE_FIELDS = re.compile(r"^\S+(\s+\S+){4}$")
_RATE = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")
_RATE_UNITS = {"m": 60, "h": 3600, "d": 86400}


class ScheduleError(ValueError):
    """A schedule that cannot be read: the message says what is wrong and what is expected."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (`Europe/Berlin`, `UTC`); a clear error for anything else."""
    try:
        return _zone(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ScheduleError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin, America/New_York or UTC"
        ) from error


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(name)
    return ZoneInfo(name)


def parse_rate(text: str) -> int:
    """`1m`, `6h`, `1d` → seconds (a positive whole number of minutes, hours or days)."""
    match = _RATE.match(text.strip().lower())
    if match is None:
        raise ScheduleError(f"{text!r} is not a rate: write a whole number of minutes, hours or days (15m, 6h, 1d)")
    return int(match.group(1)) * _RATE_UNITS[match.group(2)]


class Cron:
    """A five-field cron expression read in one time zone."""

    __slots__ = ("expression", "timezone", "_zone", "_fixed_hour")

    def __init__(self, expression: str, timezone: str = "UTC") -> None:
        expression = " ".join(expression.split())
        if not _FIVE_FIELDS.match(expression):
            raise ScheduleError(
                f"{expression!r} is not a five-field cron expression (minute hour day-of-month month day-of-week, "
                'e.g. "0 16 * * FRI")'
            )
        from croniter import CroniterBadCronError, croniter  # first use: every cold start reads the config, few cron

        try:
            croniter(expression)
        except (CroniterBadCronError, ValueError, KeyError) as error:
            raise ScheduleError(f"{expression!r} is not a valid cron expression: {error}") from error
        self.expression = expression
        self.timezone = timezone
        self._zone = zone(timezone)
        self._fixed_hour = not expression.split()[1].startswith("*")

    def __repr__(self) -> str:
        return f"Cron({self.expression!r}, {self.timezone!r})"

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment` (UTC)."""
        return self._walk(moment, forward=True).__next__()

    def last_at_or_before(self, moment: datetime) -> datetime:
        """The newest fire time at or before `moment` (UTC)."""
        return self._walk(moment + timedelta(seconds=1), forward=False).__next__()

    def fires_after(self, moment: datetime) -> Iterator[datetime]:
        """Fire times strictly after `moment`, oldest first (UTC), without end."""
        return self._walk(moment, forward=True)

    def fires_before(self, moment: datetime) -> Iterator[datetime]:
        """Fire times strictly before `moment`, newest first (UTC), without end."""
        return self._walk(moment, forward=False)

    def _walk(self, moment: datetime, *, forward: bool) -> Iterator[datetime]:
        from croniter import croniter

        local = _aware(moment).astimezone(self._zone)
        walker = croniter(self.expression, local)
        seen: datetime | None = None
        while True:
            fire = walker.get_next(datetime) if forward else walker.get_prev(datetime)
            fire_utc = fire.astimezone(UTC)
            if fire_utc == seen or (self._fixed_hour and self._second_of_repeated(fire_utc)):
                continue
            seen = fire_utc
            yield fire_utc

    def _second_of_repeated(self, fire: datetime) -> bool:
        """Whether `fire` is the second occurrence of a wall time that happens twice when clocks go back. As in
        Vixie cron, an expression with a fixed hour fires once then (the first time); `*`-hour ones keep firing."""
        wall = fire.astimezone(self._zone).replace(tzinfo=None)
        first = wall.replace(tzinfo=self._zone, fold=0).astimezone(UTC)
        second = wall.replace(tzinfo=self._zone, fold=1).astimezone(UTC)
        return first != second and fire == second


class Occurrence(NamedTuple):
    """One window: from `start` until `end` (UTC)."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class Window:
    """Opens at each fire of `cron` and stays open for `duration` on the time zone's wall clock."""

    __slots__ = ("cron", "duration")

    def __init__(self, cron: Cron, duration: timedelta) -> None:
        if duration <= timedelta(0):
            raise ScheduleError("a window's duration must be positive (e.g. 2h, 64h, 1d)")
        self.cron = cron
        self.duration = duration

    def occurrence_from(self, start: datetime) -> Occurrence:
        local = start.astimezone(self.cron._zone)
        end = (local + self.duration).astimezone(UTC)  # aware + timedelta in one zone: wall-clock arithmetic
        return Occurrence(start, end)

    def active_at(self, moment: datetime) -> Occurrence | None:
        """The open occurrence at `moment` that ends last (windows may overlap), or None."""
        moment = _aware(moment)
        best: Occurrence | None = None
        for count, start in enumerate(self.cron.fires_before(moment + timedelta(seconds=1))):
            if count >= MAX_LOOKBACK or start <= moment - self.duration - timedelta(hours=3):
                break  # older starts cannot reach `moment` (3 h: the most a DST change can stretch a window)
            occurrence = self.occurrence_from(start)
            if occurrence.contains(moment) and (best is None or occurrence.end > best.end):
                best = occurrence
        return best

    def upcoming(self, moment: datetime, count: int = 1) -> list[Occurrence]:
        """The next `count` occurrences starting after `moment`."""
        fires = self.cron.fires_after(_aware(moment))
        return [self.occurrence_from(next(fires)) for _ in range(count)]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime: slashops only compares aware instants")
    return moment
