"""Where backups are, as every unit that reads them agrees: the bucket's layout, and a port to ask whether one
exists (the ingress asks before it prompts for a restore or holds one for approval; the worker checks again)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from shared.errors import UnavailableError

if TYPE_CHECKING:
    from shared.deadline import Deadline


def manifest_key(database: str, backup_id: str) -> str:
    """A finished backup's manifest: written last, so a backup without one is not a backup."""
    return f"manifests/{database}/{backup_id}.json"


class BackupCatalogUnavailableError(UnavailableError):
    """The backup bucket could not be asked in time."""

    title = "Backups unavailable"


class BackupCatalog(Protocol):
    """Read-only: whether a database has a finished backup of that id (its manifest exists)."""

    def has_backup(self, database: str, backup_id: str, *, deadline: Deadline | None = None) -> bool:
        """Raises `BackupCatalogUnavailableError` when the bucket could not be asked (in time)."""
        ...
