"""`backup.schedules`: backups (and, through the same machinery, other backup-worker commands) that run on a clock.

```yaml
backup:
  schedules:
    - {database: orders, cron: "0 3 * * *", timezone: Europe/Berlin, channel: C0DBOPS}
    - {database: shop, rate: 6h, channel: C0DBOPS, notify: always, name: shop-6h}
```

Each entry runs one command (`kind`: `backup`, the default) on one database, either on a five-field `cron` read in
`timezone` (IANA, default UTC) or every `rate` (`15m`, `6h`, `1d`). Its `channel` (an ID) hears of every failure,
and of every success too with `notify: always`. The entry is its own authorization: only whoever may change the
configuration can write one, so the access rules for users do not apply to it (docs/admins.md "Backup schedules").

Each entry has a stable `name`: the explicit `name:`, else `<database>@<cron>` / `<database>@every <rate>`. Messages,
the ledger (`run by schedule <name>`) and the worker's check that a firing is still configured all use it; on AWS the
EventBridge Scheduler schedule is called `aws_name` (Scheduler's alphabet), derived from it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from shared.config.deploy import did_you_mean

ScheduledKind = Literal["backup", "verify"]
"""What a schedule runs: the backup worker's command of that name (`verify` entries come from `backup.verify`)."""
Notify = Literal["failures", "always"]
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,40}$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
"""An explicit `name:`: lowercase letters, digits, `-` and `_` (it becomes part of an AWS schedule's name)."""
PERIOD_SAMPLE = 400
"""How many fires of a cron expression are looked at to find its longest gap (its period, for the missed-schedule
check): more than a year of a daily schedule, eight years of a weekly one."""


class ScheduledRun(BaseModel):
    """One entry: what runs (`kind`) on which database, when (`cron` + `timezone`, or `rate`), who hears of it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    database: str
    cron: str | None = None
    rate: str | None = None
    timezone: str = "UTC"
    channel: str
    notify: Notify = "failures"
    name: str | None = None
    kind: ScheduledKind = "backup"

    @model_validator(mode="after")
    def _readable(self) -> ScheduledRun:
        from shared.schedules import Cron, ScheduleError, parse_rate  # croniter: only a schedule loads it

        where = f"{self.database}" + (f" ({self.name})" if self.name else "")
        if (self.cron is None) == (self.rate is None):
            raise ValueError(
                f"{where}: give either `cron` (with an optional `timezone`) or `rate`, not both or neither"
            )
        if self.rate is not None and self.timezone != "UTC":
            raise ValueError(f"{where}: `timezone` goes with `cron`; a `rate` runs at the same interval in every zone")
        if not CHANNEL_ID.match(self.channel):
            raise ValueError(
                f"{where}: channel {self.channel[:80]!r} is not a channel ID (C0123ABCD, as Slack shows it)"
            )
        if self.name is not None and not NAME.match(self.name):
            raise ValueError(f"{where}: name {self.name[:80]!r}: use lowercase letters, digits, - and _ (48 at most)")
        try:
            if self.rate is not None:
                parse_rate(self.rate)
            else:
                Cron(self.cron or "", self.timezone)
        except ScheduleError as error:
            raise ValueError(f"{where}: {error}{_zone_hint(self.timezone, str(error))}") from error
        fields = (self.cron or "").split()
        if fields and fields[2] != "*" and fields[4] != "*":
            raise ValueError(
                f"{where}: {self.cron!r} names both a day of the month and a day of the week, which EventBridge "
                "Scheduler cannot express (cron runs on either): keep one of them, or write two entries"
            )
        return self

    @property
    def label(self) -> str:
        """The stable name (`orders@0 3 * * *`, `shop@every 6h`, or the explicit `name:`)."""
        if self.name:
            return self.name
        return f"{self.database}@{self.when}"

    @property
    def when(self) -> str:
        """`0 3 * * *` (with ` Europe/Berlin` when not UTC) or `every 6h`: plain text, the caller quotes it."""
        if self.rate is not None:
            return f"every {self.rate.strip().lower()}"
        expression = " ".join((self.cron or "").split())
        return expression if self.timezone == "UTC" else f"{expression} {self.timezone}"

    @property
    def aws_name(self) -> str:
        """The EventBridge Scheduler schedule's name: `<kind>-<name>`, or for an unnamed entry `<kind>-<database>-`
        and 10 hex digits of its label's hash (Scheduler's names allow no spaces nor `*`); at most 64 characters."""
        if self.name:
            return f"{self.kind}-{self.name}"
        digest = hashlib.sha256(self.label.encode()).hexdigest()[:10]
        return f"{self.kind}-{self.database[:40]}-{digest}"

    def rate_seconds(self) -> int | None:
        from shared.schedules import parse_rate

        return parse_rate(self.rate) if self.rate is not None else None

    def period(self, now: datetime | None = None) -> timedelta:
        """Its longest gap between two fires: the rate, or for cron the widest gap among the next fires (a
        weekday schedule's is the weekend's three days, a monthly one's 31 days)."""
        seconds = self.rate_seconds()
        if seconds is not None:
            return timedelta(seconds=seconds)
        from shared.schedules import Cron

        fires = Cron(self.cron or "", self.timezone).fires_after(now or datetime.now(UTC))
        previous = next(fires)
        widest = timedelta(0)
        for _ in range(PERIOD_SAMPLE):
            fire = next(fires)
            widest = max(widest, fire - previous)
            previous = fire
        return widest

    def overdue_after(self, now: datetime | None = None) -> timedelta:
        """How long without a successful run raises the missed-schedule alarm: twice its period."""
        return 2 * self.period(now)


def _zone_hint(timezone: str, problem: str) -> str:
    if "time zone" not in problem:
        return ""
    import zoneinfo  # only a mistyped time zone reads the zone database's list

    return did_you_mean(timezone, zoneinfo.available_timezones())


def check_schedules(schedules: tuple[ScheduledRun, ...], databases: tuple[str, ...], *, where: str) -> None:
    """Every entry names a database `databases` lists (when it lists any) and no two entries share a name."""
    seen: set[str] = set()
    for entry in schedules:
        if databases and entry.database not in databases:
            raise ValueError(
                f"{where} ({entry.label}) names the database {entry.database!r}, which backup.databases does not "
                f"list ({', '.join(databases)}){did_you_mean(entry.database, databases)}"
            )
        key = f"{entry.kind}:{entry.label}"
        if key in seen:
            raise ValueError(f"{where}: two entries are named {entry.label!r}: give one of them a distinct `name:`")
        seen.add(key)
