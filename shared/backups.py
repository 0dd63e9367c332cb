"""Where backups are, as every unit that reads them agrees: the bucket's layout, and a port to ask whether one
exists (the ingress asks before it prompts for a restore or holds one for approval; the worker checks again)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from shared.errors import UnavailableError

if TYPE_CHECKING:
    from shared.deadline import Deadline


_BACKUP_ID = re.compile(r"(?P<database>[a-z0-9][a-z0-9_-]{0,62})-[0-9]{8}T[0-9]{6}Z-[a-z0-9]{1,32}")
"""`<database>-<UTC start, 20261128T101500Z>-<the command id's first characters>` (`services.backup.models`)."""


def backup_database(backup_id: str) -> str | None:
    """The database a backup id names (`orders-20261128T101500Z-3f9c2a` → `orders`); None if it is not an id.

    Every backup id starts with its database's name, so `restore --db orders_staging --from orders-…` says which
    database's backup to read without another argument. The id ends with two parts that cannot hold a `-` of
    their own, so a name with dashes (`orders-eu-2026…`) still splits in exactly one way.
    """
    found = _BACKUP_ID.fullmatch(backup_id)
    return found["database"] if found else None


def manifest_key(database: str, backup_id: str) -> str:
    """A finished backup's manifest: written last, so a backup without one is not a backup."""
    return f"manifests/{database}/{backup_id}.json"


def manifest_prefix(database: str) -> str:
    """Every manifest of `database`: its keys sort by the backup's UTC start (the id holds it after the name)."""
    return f"manifests/{database}/"


def backup_started(backup_id: str) -> datetime | None:
    """When a backup started, read from its id (`orders-20261128T101500Z-3f9c2a` → 2026-11-28 10:15 UTC)."""
    found = _BACKUP_ID.fullmatch(backup_id)
    if found is None:
        return None
    return datetime.strptime(backup_id[len(found["database"]) + 1 :][:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


class BackupCatalogUnavailableError(UnavailableError):
    """The backup bucket could not be asked in time."""

    title = "Backups unavailable"


class BackupCatalog(Protocol):
    """Read-only: whether a database has a finished backup of that id (its manifest exists), and its newest one."""

    def has_backup(self, database: str, backup_id: str, *, deadline: Deadline | None = None) -> bool:
        """Raises `BackupCatalogUnavailableError` when the bucket could not be asked (in time)."""
        ...

    def latest(self, database: str, *, now: int, deadline: Deadline | None = None) -> str | None:
        """The id of `database`'s newest finished backup (None: it has none); a bounded read (the Home shows it).
        Raises `BackupCatalogUnavailableError` when the bucket could not be asked (in time), or holds too many
        recent backups to find the newest within the bound."""
        ...
