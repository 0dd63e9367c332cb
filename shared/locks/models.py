"""A deploy lock and the durations users type for it (`30m`, `2h`, `1d`), parsed once at the edge."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")


class DurationError(ValueError):
    """Not a duration slashops understands: a whole number followed by m, h or d."""


def parse_duration(text: str) -> int:
    """Seconds in `text` (`30m`, `2h`, `1d`); `DurationError` for anything else (no `1.5h`, no `2 hours`)."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise DurationError(f"{text!r} is not a duration: use a whole number and m, h or d (30m, 2h, 1d)")
    return int(match.group(1)) * DURATION_UNITS[match.group(2)]


def describe_duration(seconds: int) -> str:
    """The largest unit that divides `seconds` exactly: 7200 → `2h`, 5400 → `90m`."""
    for unit, size in sorted(DURATION_UNITS.items(), key=lambda pair: -pair[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def target_key(client: str, env: str) -> str:
    """One client's environment, as the lock table keys it (client names cannot hold `#`)."""
    return f"{client}#{env}"


class Lock(BaseModel):
    """`holder` (a Slack user id) locked `client`'s `env` at `locked_at` for `reason`, until `expires_at`.

    Times are epoch seconds: DynamoDB's TTL and the conditional writes compare them as numbers.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    client: str
    env: str
    holder: str
    holder_name: str = ""
    reason: str = Field(min_length=1)
    locked_at: int
    expires_at: int
    command_id: str = ""

    @property
    def target(self) -> str:
        return target_key(self.client, self.env)

    def active(self, now: int) -> bool:
        """An expired lock blocks nothing, even while DynamoDB's TTL (which deletes late) still keeps it."""
        return now < self.expires_at

    def held_by(self, user_id: str) -> bool:
        return self.holder == user_id

    @property
    def until(self) -> str:
        """`2026-11-28 14:00 UTC`: the same for every reader, whatever their timezone."""
        return datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
