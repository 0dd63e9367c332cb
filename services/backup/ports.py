"""The worker's ports: object storage, the job queue. One real adapter each (boto3); tests use fakes or LocalStack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from services.backup.models import Manifest, RestoreRecord


class Upload(Protocol):
    """One multipart upload in progress."""

    def upload_part(self, number: int, data: bytes) -> None: ...

    def complete(self) -> None: ...

    def abort(self) -> None: ...


class BackupStore(Protocol):
    def start_upload(self, key: str) -> Upload: ...

    def put_manifest(self, manifest: Manifest) -> None: ...

    def manifests(self, database: str) -> list[Manifest]: ...

    def manifest(self, database: str, backup_id: str) -> Manifest | None: ...

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
    def receive(self, wait_seconds: int) -> list[QueueMessage]: ...

    def delete(self, message: QueueMessage) -> None: ...

    def extend(self, message: QueueMessage, seconds: int) -> None: ...

    def release(self, message: QueueMessage) -> None:
        """Make the message visible again now, so another worker (or this one, restarted) picks it up."""
        ...
