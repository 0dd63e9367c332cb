"""The worker's ports: object storage, the job queue, the database engines' tools.

One real adapter each (`adapters/`); tests use the in-memory fakes (`tests/support/fakes/backup.py`), which the
contract suites hold to the real adapters' behaviour on LocalStack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from services.backup.connections import Database
from services.backup.models import Manifest, RestoreRecord


class Upload(Protocol):
    """One multipart upload in progress."""

    def upload_part(self, number: int, data: bytes | bytearray) -> None:
        """`data` may be the stream's own buffer: it is not changed while the call runs, nor kept after it."""
        ...

    def complete(self) -> None:
        """Only if the key is new; raises `ObjectExists` if it is taken (a finished backup is never replaced)."""
        ...

    def abort(self) -> None: ...


class BackupStore(Protocol):
    """Backups, their manifests and restore records, written only as new keys; one lock per database."""

    def start_upload(self, key: str) -> Upload: ...

    def put_manifest(self, manifest: Manifest) -> None:
        """Only if no manifest has that key; raises `ObjectExists` if one does."""
        ...

    def manifests(self, database: str) -> list[Manifest]:
        """The database's backups, newest (`finished_at`) first."""
        ...

    def manifest(self, database: str, backup_id: str) -> Manifest | None: ...

    def backup_by_command(self, database: str, command_id: str) -> Manifest | None:
        """The manifest of the backup this command finished, if any: a redelivered backup must not dump again."""
        ...

    def read(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """The object's bytes; raises `BackupDataMissing` if the object is gone."""
        ...

    def exists(self, key: str) -> bool: ...

    def restore_record(self, database: str, command_id: str) -> RestoreRecord | None:
        """The record of a restore this command finished, if any: a redelivered restore must not run again."""
        ...

    def put_restore_record(self, record: RestoreRecord) -> None:
        """Write it only if none exists for the command; raises `ObjectExists` if one does (the first stays)."""
        ...

    def acquire_lock(self, database: str, owner: str) -> str | None:
        """Take the database's lock; returns None on success, or who holds it."""
        ...

    def release_lock(self, database: str) -> None: ...


@dataclass(frozen=True)
class QueueMessage:
    body: str
    receipt_handle: str
    receive_count: int = 1


class JobQueue(Protocol):
    """The worker's queue: a received message stays hidden until deleted, released, or its timeout runs out."""

    def receive(self, wait_seconds: int) -> list[QueueMessage]: ...

    def delete(self, message: QueueMessage) -> None: ...

    def extend(self, message: QueueMessage, seconds: int) -> None: ...

    def release(self, message: QueueMessage) -> None:
        """Make the message visible again now, so another worker (or this one, restarted) picks it up."""
        ...


@dataclass(frozen=True)
class ToolCommand:
    """A client tool to run: an argument list (never a shell string) and the environment it adds (passwords)."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


class DumpEngine(Protocol):
    """Dump writes the whole database to stdout; restore reads that stream back from stdin."""

    name: str
    #: whether a restore cut short rolls back (so a checksum mismatch found at the end leaves the data as it was)
    transactional_restore: bool

    def dump(self, db: Database) -> ToolCommand: ...

    def restore(self, db: Database) -> ToolCommand: ...

    def version(self, db: Database) -> ToolCommand: ...

    def version_in_dump(self, head: bytes) -> str | None:
        """The server's version as the dump's first bytes state it, or None (then `version` is run for it)."""
        ...
