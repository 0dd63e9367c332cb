"""The `backup` section of the configuration: which databases can be backed up and restored, and how many of each
database's backups are kept (`retention`).

```yaml
backup:
  databases: [orders, billing]
  retention:
    default: {keep_last: 7}
    orders: {keep_last: 3, keep_daily: 7, keep_weekly: 4, keep_monthly: 6}
```

A database's own policy replaces `default` (the two are not merged); a database with neither is never pruned
(the bucket's lifecycle rule alone expires its backups). Any mistake (a negative or non-integer count, an unknown
`keep_*` rule, a database `databases` does not list) makes the whole configuration invalid, as everywhere else in
it: every command is then refused until it is fixed, so nothing is pruned on a policy that could not be read.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.config.schedules import ScheduledRun, check_schedules

DEFAULT_POLICY = "default"
"""The `retention` key whose policy applies to every database without its own."""
DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
"""What a database's name in commands looks like (the backup stack's `Databases` parameter allows the same)."""
MAX_KEEP = 10_000


class RetentionPolicy(BaseModel):
    """Which backups of one database survive pruning; the rules are cumulative, as restic's and Borg's are.

    `keep_last`: the N newest. `keep_hourly` / `keep_daily` / `keep_weekly` / `keep_monthly` / `keep_yearly`: the
    newest backup of each of the N most recent hours / days / ISO weeks / months / years (UTC) that have backups.
    A backup kept by any rule stays. All zero (or none given): every backup is kept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    keep_last: int = Field(default=0, ge=0, le=MAX_KEEP, strict=True)
    keep_hourly: int = Field(default=0, ge=0, le=MAX_KEEP, strict=True)
    keep_daily: int = Field(default=0, ge=0, le=MAX_KEEP, strict=True)
    keep_weekly: int = Field(default=0, ge=0, le=MAX_KEEP, strict=True)
    keep_monthly: int = Field(default=0, ge=0, le=MAX_KEEP, strict=True)
    keep_yearly: int = Field(default=0, ge=0, le=MAX_KEEP, strict=True)

    @property
    def keeps_everything(self) -> bool:
        return not any(count for _, count in self.rules())

    def rules(self) -> list[tuple[str, int]]:
        """`(rule, count)` in the order restic applies them (`keep_last` first)."""
        return [(name, getattr(self, name)) for name in type(self).model_fields]

    def describe(self) -> str:
        """`keep_last 3, keep_daily 7` (the rules with a count), or "keep everything"."""
        return ", ".join(f"{name} {count}" for name, count in self.rules() if count) or "keep everything"


class BackupConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    databases: tuple[str, ...] = ()
    retention: dict[str, RetentionPolicy] = Field(default_factory=dict)
    restore_into: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """`{orders: [orders_staging]}`: `orders`' backups may be restored into `orders_staging` (`restore --db
    orders_staging --from orders-…`). Off unless listed: a restore into another database copies its data there,
    and whoever may restore the target may not be meant to read the source."""
    verify: tuple[ScheduledRun, ...] = ()
    """Scheduled verifications, written as schedules are: `[{database: orders, cron: "0 4 * * *", channel: C0DBOPS}]`
    (each entry is a `kind: verify` schedule; its channel hears of every failed verify)."""
    schedules: tuple[ScheduledRun, ...] = ()
    """Scheduled backups (`shared/config/schedules.py`): `[{database: orders, cron: "0 3 * * *", channel: C0DBOPS}]`."""

    @field_validator("verify", mode="before")
    @classmethod
    def _verify_entries_verify(cls, entries: Any) -> Any:
        """`backup.verify` entries are schedules whose kind is `verify` (a `kind` of another command is refused)."""
        if not isinstance(entries, list | tuple):
            return entries
        shaped = []
        for entry in entries:
            if isinstance(entry, dict):
                if entry.get("kind", "verify") != "verify":
                    raise ValueError(f"backup.verify entries verify: kind {str(entry.get('kind'))[:40]!r} goes in "
                                     "backup.schedules")  # fmt: skip
                entry = {**entry, "kind": "verify"}
            shaped.append(entry)
        return shaped

    @model_validator(mode="after")
    def _schedules_name_databases(self) -> BackupConfig:
        for where, entries in (("backup.schedules", self.schedules), ("backup.verify", self.verify)):
            for entry in entries:
                if not DATABASE_NAME.match(entry.database):
                    raise ValueError(f"{where}: {entry.database[:80]!r} is not a database name")
        check_schedules(self.schedules, self.databases, where="backup.schedules")
        check_schedules(self.verify, self.databases, where="backup.verify")
        check_schedules(self.scheduled_runs, (), where="backup.schedules and backup.verify")
        return self

    @property
    def scheduled_runs(self) -> tuple[ScheduledRun, ...]:
        """Every entry that runs on a clock: `backup.schedules`, then `backup.verify`."""
        return (*self.schedules, *self.verify)

    @model_validator(mode="after")
    def _retention_names_known_databases(self) -> BackupConfig:
        for name in self.retention:
            if name == DEFAULT_POLICY:
                continue
            if not DATABASE_NAME.match(name):
                raise ValueError(f"backup.retention: {name[:80]!r} is not a database name (nor `default`)")
            if self.databases and name not in self.databases:
                raise ValueError(
                    f"backup.retention names the database {name!r}, which backup.databases does not list "
                    f"({', '.join(self.databases)}): add it there, or remove its policy"
                )
        return self

    @model_validator(mode="after")
    def _restores_and_verifies_name_databases(self) -> BackupConfig:
        named = [
            (f"backup.restore_into.{source}", name)
            for source, targets in self.restore_into.items()
            for name in (source, *targets)
        ]
        for where, name in named:
            if not DATABASE_NAME.match(name):
                raise ValueError(f"{where}: {name[:80]!r} is not a database name")
            if self.databases and name not in self.databases:
                raise ValueError(f"{where} names the database {name!r}, which backup.databases does not list")
        return self

    def may_restore_into(self, source: str, target: str) -> bool:
        """A database's own backups always; another's only as `restore_into` lists."""
        return source == target or target in self.restore_into.get(source, ())

    def retention_for(self, database: str) -> RetentionPolicy | None:
        """The database's own policy, else `default`'s; None: its backups are never pruned."""
        return self.retention.get(database) or self.retention.get(DEFAULT_POLICY)
