"""Freezes: windows in which a deploy or rollback into an environment is refused, or held for an override.

Two kinds, one view (`Freeze`):
- scheduled windows from the configuration (`deploy.freezes`, `shared.config.deploy.FreezeWindow`), evaluated at an
  instant by `shared.schedules` (cron in the window's time zone, duration on its wall clock);
- ad-hoc freezes from Slack (`/ops freeze`), kept in the lock table as a lock on every client of the environment:
  client `*` (`EVERY_CLIENT`), which no client name can be, so the key (`*#production`) is apart from every lock's.
  The ingress and the deploy service read them through the lock store they already have, and its conditional write
  gives two freezes at once one winner, as for locks.

What a deploy meets (`verdict`): any open freeze without an `override` refuses it (an ad-hoc freeze never has one);
freezes that all name the same override approvers hold it for their approval; overlapping windows with different
approvers refuse it (no single approval would satisfy them all: fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from shared.config.access import ApprovalPolicy
from shared.config.deploy import FreezeWindow
from shared.locks.models import Lock, describe_duration
from shared.schedules import zone
from shared.slack.mrkdwn import code, mention, text

EVERY_CLIENT = "*"
"""The client an ad-hoc freeze is stored under in the lock table (no client name can be `*`)."""
UPCOMING = timedelta(days=7)
"""`/ops freezes` lists the windows that open within this long."""


@dataclass(frozen=True)
class Freeze:
    """One freeze of `env` from `start` until `end` (UTC): scheduled (`window`) or ad-hoc (`by`, a Slack user id)."""

    env: str
    reason: str
    start: datetime
    end: datetime
    by: str = ""
    window: FreezeWindow | None = None
    command_id: str = ""

    @property
    def scheduled(self) -> bool:
        return self.window is not None

    @property
    def override(self) -> ApprovalPolicy | None:
        return self.window.override if self.window is not None else None

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    @property
    def until(self) -> str:
        """`Mon 2026-12-07 08:00 Europe/Berlin (07:00 UTC)` for a window in a zone; `Sun 2026-12-06 23:00 UTC`."""
        return shown(self.end, self.window.timezone if self.window is not None else "UTC")

    @property
    def since(self) -> str:
        return shown(self.start, self.window.timezone if self.window is not None else "UTC")

    def source(self) -> str:
        """mrkdwn, who or what froze it: scheduled window `0 16 * * FRI` Europe/Berlin for 64h, or frozen by @alice."""
        if self.window is not None:
            return f"scheduled window {code(self.window.cron)} {text(self.window.timezone)} for {_hours(self.window)}"
        return f"frozen by {mention(self.by)}"


def shown(moment: datetime, timezone: str) -> str:
    """An instant as every reader reads it alike: in the window's zone with UTC beside it, or in UTC."""
    utc = moment.astimezone(UTC)
    if timezone == "UTC":
        return f"{utc:%a %Y-%m-%d %H:%M} UTC"
    local = utc.astimezone(zone(timezone))
    utc_part = f"{utc:%H:%M}" if local.date() == utc.date() else f"{utc:%a %H:%M}"
    return f"{local:%a %Y-%m-%d %H:%M} {timezone} ({utc_part} UTC)"


def _hours(window: FreezeWindow) -> str:
    return describe_duration(window.duration)


def as_lock(freeze: Freeze, *, by_name: str = "") -> Lock:
    """An ad-hoc freeze as the lock table keeps it."""
    return Lock(
        client=EVERY_CLIENT,
        env=freeze.env,
        holder=freeze.by,
        holder_name=by_name,
        reason=freeze.reason,
        locked_at=int(freeze.start.timestamp()),
        expires_at=int(freeze.end.timestamp()),
        command_id=freeze.command_id,
    )


def is_freeze(lock: Lock) -> bool:
    return lock.client == EVERY_CLIENT


def from_lock(lock: Lock) -> Freeze:
    return Freeze(
        env=lock.env,
        reason=lock.reason,
        start=datetime.fromtimestamp(lock.locked_at, UTC),
        end=datetime.fromtimestamp(lock.expires_at, UTC),
        by=lock.holder,
        command_id=lock.command_id,
    )


def scheduled_at(windows: Iterable[FreezeWindow], now: datetime, env: str | None = None) -> list[Freeze]:
    """The configured windows open at `now` (of `env`, or of every environment)."""
    found = []
    for window in windows:
        if env is not None and window.env != env:
            continue
        occurrence = window.window.active_at(now)
        if occurrence is not None:
            found.append(Freeze(window.env, window.reason, occurrence.start, occurrence.end, window=window))
    return found


def upcoming(windows: Iterable[FreezeWindow], now: datetime, within: timedelta = UPCOMING) -> list[Freeze]:
    """The next opening of each configured window, if it comes within `within` of `now`, soonest first."""
    found = []
    for window in windows:
        (occurrence,) = window.window.upcoming(now, 1)
        if occurrence.start <= now + within:
            found.append(Freeze(window.env, window.reason, occurrence.start, occurrence.end, window=window))
    return sorted(found, key=lambda freeze: freeze.start)


def active(
    windows: Iterable[FreezeWindow], locks: Iterable[Lock | None], now: datetime, env: str | None = None
) -> list[Freeze]:
    """Every freeze open at `now` (ad-hoc ones from the lock table's `locks`), the one ending last first."""
    adhoc = [
        from_lock(lock) for lock in locks if lock is not None and is_freeze(lock) and (env is None or lock.env == env)
    ]
    open_now = [freeze for freeze in (*adhoc, *scheduled_at(windows, now, env)) if freeze.active(now)]
    return sorted(open_now, key=lambda freeze: freeze.end, reverse=True)


class Verdict(NamedTuple):
    """What a deploy into a frozen environment meets: refused (`override` None) or held for `override`'s approval.

    `freeze` is the freeze the answer names: among those that decide, the one ending last. `overlapping`: windows
    with different override approvers are open at once, so no single approval overrides them.
    """

    freeze: Freeze
    override: ApprovalPolicy | None
    overlapping: bool = False


def verdict(freezes: Sequence[Freeze]) -> Verdict | None:
    """None when nothing is frozen (`freezes`: the open ones, as `active` returns them)."""
    if not freezes:
        return None
    without = [freeze for freeze in freezes if freeze.override is None]
    if without:
        return Verdict(max(without, key=lambda freeze: freeze.end), None)
    last = max(freezes, key=lambda freeze: freeze.end)
    if len({freeze.override for freeze in freezes}) > 1:
        return Verdict(last, None, overlapping=True)
    return Verdict(last, last.override)
