"""The worker's ports: object storage, the job queue, the database engines' tools.

One real adapter each (`adapters/`); tests use the in-memory fakes (`tests/support/fakes/backup.py`), which the
contract suites hold to the real adapters' behaviour on LocalStack.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from services.backup.connections import Database
from services.backup.models import Manifest, RestoreRecord, Verification, VerificationMark


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

    def size(self, key: str) -> int | None:
        """The object's size in bytes (one HEAD), or None if it is gone."""
        ...

    def restore_record(self, database: str, command_id: str) -> RestoreRecord | None:
        """The record of a restore this command finished, if any: a redelivered restore must not run again."""
        ...

    def put_restore_record(self, record: RestoreRecord) -> None:
        """Write it only if none exists for the command; raises `ObjectExists` if one does (the first stays)."""
        ...

    def put_verification(self, verification: Verification) -> None:
        """Written once per command (`ObjectExists` if it is there): a verification's result is never replaced."""
        ...

    def verifications(self, database: str) -> dict[str, VerificationMark]:
        """Each of the database's verified backups (by id) → its newest verification's result and time."""
        ...

    def acquire_lock(self, database: str, owner: str) -> str | None:
        """Take the database's lock; returns None on success, or who holds it."""
        ...

    def release_lock(self, database: str) -> None: ...

    def list_backups(self, database: str) -> BackupListing:
        """Every manifest under the database's prefix, newest first; never raises for a page or a manifest that
        could not be read: the listing then says what is missing (`problem`), and nothing may be pruned on it."""
        ...

    def delete_backup(self, database: str, backup_id: str) -> None:
        """Delete the backup's manifest (it is then no longer listed), then its data: the two keys under that
        database's prefixes, nothing else. Raises `ValueError` for a backup id that is not a plain name."""
        ...

    def start_reading(self, database: str, backup_id: str, reader: str) -> None:
        """Mark the backup as being read by `reader` (a command id): pruning leaves it alone while marked."""
        ...

    def stop_reading(self, database: str, backup_id: str, reader: str) -> None: ...

    def readers(self, database: str) -> dict[str, list[str]]:
        """The database's backups being read: backup id → the readers' command ids. Raises if it cannot tell."""
        ...


@dataclass(frozen=True)
class BackupListing:
    """A database's manifests as listed, and why the listing is incomplete (None: it is complete)."""

    manifests: list[Manifest]
    problem: str | None = None


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


class RowCounter(Protocol):
    """Each table's row count as a dump holds them, for the manifest (`verify` compares a test restore with it).

    PostgreSQL: counted in the transaction whose snapshot `pg_dump --snapshot` dumps (`dump_options`), so the
    counts are exact whatever is written meanwhile. MySQL/MariaDB: read from the dump's own INSERTs (`feed`), as
    no other session can share mysqldump's snapshot.
    """

    dump_options: Sequence[str]

    def feed(self, data: memoryview) -> None:
        """Every byte of the dump, in order."""
        ...

    def counts(self) -> dict[str, int]:
        """Called once the dump has ended."""
        ...


class DumpEngine(Protocol):
    """Dump writes the whole database to stdout; restore reads that stream back from stdin."""

    name: str
    #: whether a restore cut short rolls back (so a checksum mismatch found at the end leaves the data as it was)
    transactional_restore: bool

    def dump(self, db: Database, options: Sequence[str] = ()) -> ToolCommand:
        """`options`: what the row counter asks the dump to add (`RowCounter.dump_options`)."""
        ...

    def restore(self, db: Database) -> ToolCommand: ...

    def counting(self, db: Database, *, base_env: Mapping[str, str]) -> AbstractContextManager[RowCounter]:
        """Counts each table's rows as the dump about to start will hold them (entered before the dump starts)."""
        ...

    def count_rows(self, db: Database) -> ToolCommand:
        """Prints `<table>\t<rows>` per table of the database: a restored copy's counts, to compare."""
        ...

    def create_database(self, server: Database, name: str) -> ToolCommand:
        """Creates the empty database `name` on `server`'s server (a verify's scratch database)."""
        ...

    def drop_database(self, server: Database, name: str) -> ToolCommand:
        """Drops `name` on `server`'s server if it exists, even with sessions still open on it."""
        ...

    def list_databases(self, server: Database, prefix: str) -> ToolCommand:
        """Prints the names of the databases on `server`'s server that start with `prefix`, one a line."""
        ...

    def version(self, db: Database) -> ToolCommand: ...

    def version_in_dump(self, head: bytes) -> str | None:
        """The server's version as the dump's first bytes state it, or None (then `version` is run for it)."""
        ...
