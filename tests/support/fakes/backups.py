"""An in-memory `BackupCatalog` (shared/backups.py); tests/contracts/test_backup_catalog.py holds it to the S3
adapter on moto."""

from __future__ import annotations

from shared.backups import BackupCatalogUnavailableError
from shared.deadline import Deadline


class MemoryBackupCatalog:
    """`add(database, backup_id)` makes a backup exist; `unavailable=True` is a bucket that cannot be asked."""

    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.asked: list[tuple[str, str]] = []
        self._backups: set[tuple[str, str]] = set()

    def add(self, database: str, backup_id: str) -> MemoryBackupCatalog:
        self._backups.add((database, backup_id))
        return self

    def has_backup(self, database: str, backup_id: str, *, deadline: Deadline | None = None) -> bool:
        self.asked.append((database, backup_id))
        if self.unavailable:
            raise BackupCatalogUnavailableError("the backup bucket did not answer (scripted)")
        return (database, backup_id) in self._backups

    def latest(self, database: str, *, now: int, deadline: Deadline | None = None) -> str | None:
        self.asked.append((database, "latest"))
        if self.unavailable:
            raise BackupCatalogUnavailableError("the backup bucket did not answer (scripted)")
        return max((backup_id for db, backup_id in self._backups if db == database), default=None)
