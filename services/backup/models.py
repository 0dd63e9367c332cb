"""What the worker writes beside each backup and restore, where, and the database a command names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events.models import CommandRequested


class Manifest(BaseModel):
    """Written only after the upload completed: a backup without one does not exist."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1
    backup_id: str
    database: str
    engine: str
    server_version: str
    object_key: str
    size_bytes: int
    sha256: str
    created_by: str
    command_id: str
    started_at: datetime
    finished_at: datetime
    tables: dict[str, int] | None = None
    """Each table's row count as the dump holds it (`schema.table` on PostgreSQL, `table` on MySQL), for `verify`
    to compare a test restore with; None in manifests written before the counts were recorded."""

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class RestoreRecord(BaseModel):
    """Written after a restore finished: a redelivery of the same command finds it and does not restore again."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1
    command_id: str
    database: str
    backup_id: str
    restored_by: str
    started_at: datetime
    finished_at: datetime
    source: str = ""
    """The database the backup was taken of, when it is not `database` (a restore into another database)."""


class Verification(BaseModel):
    """How one `verify` of a backup ended, kept beside the backup (`verifications/<db>/<backup id>/…`) so `backups`
    shows it. Written once per command (never replaced); the newest one is the backup's state."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1
    command_id: str
    database: str
    backup_id: str
    passed: bool
    verified_by: str
    started_at: datetime
    finished_at: datetime
    tables: int = 0
    """How many tables' row counts were compared."""
    problem: str = ""
    """Why it failed, as the user read it (a corrupted object, a restore error, the first row-count mismatches)."""

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


ScratchState = Literal["none", "dropped", "left"]
"""What became of a verify's scratch database: none was made, it was dropped, or it was left (the drop failed)."""


@dataclass(frozen=True)
class Mismatch:
    """A table whose row count after a verify's restore differs from the manifest's; None: missing on that side."""

    table: str
    backed_up: int | None
    restored: int | None


@dataclass(frozen=True)
class VerificationMark:
    """A backup's newest verification, as `backups` shows it (read from the record's key alone, no GET)."""

    passed: bool
    at: datetime


def backup_id_for(database: str, started_at: datetime, command_id: str) -> str:
    """Sortable and readable: `orders-20261128T101500Z-3f9c2a`."""
    return f"{database}-{started_at.strftime('%Y%m%dT%H%M%SZ')}{backup_id_suffix(command_id)}"


def backup_id_suffix(command_id: str) -> str:
    """How the id of every backup the command makes ends, so a store can find its backup without reading them all."""
    return f"-{command_id[:6]}"


def object_key(database: str, backup_id: str) -> str:
    return f"backups/{database}/{backup_id}.dump"


def restore_record_key(database: str, command_id: str) -> str:
    return f"restores/{database}/{command_id}.json"


def verification_prefix(database: str) -> str:
    return f"verifications/{database}/"


def verification_key(verification: Verification) -> str:
    """`verifications/<db>/<backup id>/<finished, UTC>-<passed|failed>-<command id>.json`: one listing of a
    database's prefix says each backup's newest result (`verification_mark`), without reading any record."""
    outcome = "passed" if verification.passed else "failed"
    at = verification.finished_at.astimezone(UTC).strftime(_KEY_TIME)
    return (
        f"{verification_prefix(verification.database)}{verification.backup_id}/"
        f"{at}-{outcome}-{verification.command_id}.json"
    )


def verification_mark(database: str, key: str) -> tuple[str, VerificationMark] | None:
    """A key `verification_key` wrote → (backup id, its mark); None for any other key."""
    rest = key.removeprefix(verification_prefix(database))
    backup_id, _, name = rest.partition("/")
    at, _, tail = name.partition("-")
    outcome = tail.partition("-")[0]
    if rest == key or not backup_id or outcome not in ("passed", "failed"):
        return None
    try:
        moment = datetime.strptime(at, _KEY_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None
    return backup_id, VerificationMark(passed=outcome == "passed", at=moment)


def newest_marks(database: str, keys: Iterable[str]) -> dict[str, VerificationMark]:
    """Each backup's newest verification among `keys` (a listing of `verification_prefix(database)`)."""
    newest: dict[str, VerificationMark] = {}
    for key in keys:
        found = verification_mark(database, key)
        if found is not None and (found[0] not in newest or found[1].at >= newest[found[0]].at):
            newest[found[0]] = found[1]
    return newest


_KEY_TIME = "%Y%m%dT%H%M%S%fZ"


def job_database(request: CommandRequested) -> str:
    value = request.arguments.get("db")
    return str(value) if value else ""
