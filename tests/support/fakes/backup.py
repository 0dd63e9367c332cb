"""In-memory fakes of the backup worker's ports, with knobs; the contract suites hold them to the real adapters.

`FakeBackupStore` behaves as `S3BackupStore` does on S3 (tests/integration/services/backup/test_store_contract.py):
backups, manifests and restore records are written only as new keys (`ObjectExists` otherwise), a missing object
reads as `BackupDataMissing`, one lock per database. `FakeJobQueue` behaves as `SqsJobQueue` does on SQS
(test_queue_contract.py): a received message stays hidden until it is deleted or released.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import EllipsisType

from botocore.exceptions import EndpointConnectionError

from services.backup.errors import BackupDataMissing, ObjectExists
from services.backup.models import (
    Manifest,
    RestoreRecord,
    Verification,
    VerificationMark,
    newest_marks,
    object_key,
    restore_record_key,
    verification_key,
)
from services.backup.ports import BackupListing, QueueMessage
from services.backup.reading import marker_key, markers_prefix, plain_backup_id, reader_of
from shared.backups import manifest_key

#: what a botocore call raises when the queue's endpoint is gone
QUEUE_GONE = EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/")


class FakeUpload:
    def __init__(self, store: FakeBackupStore, key: str) -> None:
        self.store, self.key = store, key
        self.parts: dict[int, bytes] = {}
        self.state = "open"

    def upload_part(self, number: int, data: bytes | bytearray) -> None:
        self.store.call("upload_part")
        self.parts[number] = bytes(data)

    def complete(self) -> None:
        self.store.call("complete")
        self.store.put_new(self.key, b"".join(self.parts[number] for number in sorted(self.parts)))
        self.state = "completed"

    def abort(self) -> None:
        self.store.call("abort")
        self.state = "aborted"


class FakeBackupStore:
    """A bucket in memory.

    Knobs: `add(manifest, data)` (data None: the manifest is listed but its data is gone), `hold_lock(db, owner)`,
    `fail(method, error)` (every later call of that port method raises `error`). Records: `objects`, `locks`,
    `uploads`, and `calls` (port method name → count).
    """

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.manifest_objects: dict[str, Manifest] = {}
        self.restore_records: dict[str, RestoreRecord] = {}
        self.verification_records: dict[str, Verification] = {}
        self.locks: dict[str, str] = {}
        self.uploads: list[FakeUpload] = []
        self.failures: dict[str, Exception] = {}
        self.calls: Counter[str] = Counter()

    # --- knobs ---

    def add(self, manifest: Manifest, data: bytes | None | EllipsisType = ...) -> FakeBackupStore:
        """`data`: the backup's object; by default as many zero bytes as the manifest says (None: no object)."""
        self.manifest_objects[manifest_key(manifest.database, manifest.backup_id)] = manifest
        if data is ...:
            data = bytes(manifest.size_bytes)
        if data is not None:
            self.objects[manifest.object_key] = data
        return self

    def hold_lock(self, database: str, owner: str) -> None:
        self.locks[database] = owner

    def fail(self, method: str, error: Exception) -> None:
        self.failures[method] = error

    def call(self, method: str) -> None:
        self.calls[method] += 1
        if method in self.failures:
            raise self.failures[method]

    def put_new(self, key: str, body: bytes) -> None:
        """Like `If-None-Match: *`: the first write of a key stays."""
        if key in self.objects or key in self.manifest_objects or key in self.restore_records:
            raise ObjectExists(key)
        self.objects[key] = body

    # --- BackupStore ---

    def start_upload(self, key: str) -> FakeUpload:
        self.call("start_upload")
        upload = FakeUpload(self, key)
        self.uploads.append(upload)
        return upload

    def put_manifest(self, manifest: Manifest) -> None:
        self.call("put_manifest")
        key = manifest_key(manifest.database, manifest.backup_id)
        if key in self.manifest_objects:
            raise ObjectExists(key)
        self.manifest_objects[key] = manifest

    def manifests(self, database: str) -> list[Manifest]:
        self.call("manifests")
        return self._listed(database)

    def _listed(self, database: str) -> list[Manifest]:
        found = [m for key, m in self.manifest_objects.items() if key.startswith(f"manifests/{database}/")]
        return sorted(found, key=lambda manifest: manifest.finished_at, reverse=True)

    def backup_by_command(self, database: str, command_id: str) -> Manifest | None:
        self.call("backup_by_command")
        found = [m for m in self._listed(database) if m.command_id == command_id]
        return found[0] if found else None

    def manifest(self, database: str, backup_id: str) -> Manifest | None:
        self.call("manifest")
        return self.manifest_objects.get(manifest_key(database, backup_id))

    def read(self, key: str, chunk_size: int) -> Iterator[bytes]:
        self.call("read")
        if key not in self.objects:
            raise BackupDataMissing(key)
        data = self.objects[key]
        yield from (data[start : start + chunk_size] for start in range(0, len(data), chunk_size))

    def exists(self, key: str) -> bool:
        self.call("exists")
        return key in self.objects

    def size(self, key: str) -> int | None:
        self.call("size")
        return len(self.objects[key]) if key in self.objects else None

    def restore_record(self, database: str, command_id: str) -> RestoreRecord | None:
        self.call("restore_record")
        return self.restore_records.get(restore_record_key(database, command_id))

    def put_restore_record(self, record: RestoreRecord) -> None:
        self.call("put_restore_record")
        key = restore_record_key(record.database, record.command_id)
        if key in self.restore_records:
            raise ObjectExists(key)
        self.restore_records[key] = record

    def put_verification(self, verification: Verification) -> None:
        self.call("put_verification")
        key = verification_key(verification)
        if key in self.verification_records:
            raise ObjectExists(key)
        self.verification_records[key] = verification

    def verifications(self, database: str) -> dict[str, VerificationMark]:
        self.call("verifications")
        return newest_marks(database, list(self.verification_records))

    def acquire_lock(self, database: str, owner: str) -> str | None:
        self.call("acquire_lock")
        if database in self.locks:
            return self.locks[database]
        self.locks[database] = owner
        return None

    def release_lock(self, database: str) -> None:
        self.call("release_lock")
        self.locks.pop(database, None)

    # --- retention (knob: `fail("list_backups", error)` makes the listing incomplete, as a failed S3 page does) ---

    def list_backups(self, database: str) -> BackupListing:
        try:
            self.call("list_backups")
        except Exception as error:
            return BackupListing([], f"listing page 1 failed ({type(error).__name__})")
        return BackupListing(self._listed(database))

    def delete_backup(self, database: str, backup_id: str) -> None:
        self.call("delete_backup")
        plain_backup_id(backup_id)
        self.manifest_objects.pop(manifest_key(database, backup_id), None)
        self.objects.pop(object_key(database, backup_id), None)

    def start_reading(self, database: str, backup_id: str, reader: str) -> None:
        self.call("start_reading")
        self.objects[marker_key(database, backup_id, reader)] = b"{}"

    def stop_reading(self, database: str, backup_id: str, reader: str) -> None:
        self.call("stop_reading")
        self.objects.pop(marker_key(database, backup_id, reader), None)

    def readers(self, database: str) -> dict[str, list[str]]:
        self.call("readers")
        found: dict[str, list[str]] = {}
        for key in sorted(self.objects):
            if key.startswith(markers_prefix(database)):
                backup_id, reader = reader_of(database, key)
                found.setdefault(backup_id, []).append(reader)
        return found


@dataclass
class FakeJobQueue:
    """A queue in memory, one message per receive.

    Knobs: `receive_failures`/`delete_failures`/`release_failures` (that many calls raise `QUEUE_GONE` first),
    `stop_when_empty` (set once a receive finds nothing: the serving loop ends when the queue is drained),
    `redeliver` (a released message is received again, as SQS does; False: it leaves, as if to the DLQ). Records:
    `deleted`, `released` (receipt handles), `extended` (seconds), `receives`.
    """

    messages: list[QueueMessage] = field(default_factory=list)
    stop_when_empty: threading.Event | None = None
    redeliver: bool = True
    receive_failures: int = 0
    delete_failures: int = 0
    release_failures: int = 0
    deleted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    extended: list[int] = field(default_factory=list)
    receives: int = 0
    in_flight: dict[str, QueueMessage] = field(default_factory=dict)

    def send(self, body: str) -> None:
        self.messages.append(QueueMessage(body=body, receipt_handle=f"r-{uuid.uuid4().hex[:8]}"))

    def receive(self, wait_seconds: int) -> list[QueueMessage]:
        self.receives += 1
        if self.receive_failures:
            self.receive_failures -= 1
            raise QUEUE_GONE
        if not self.messages:
            if self.stop_when_empty is not None:
                self.stop_when_empty.set()
            return []
        message = self.messages.pop(0)
        self.in_flight[message.receipt_handle] = message
        return [message]

    def delete(self, message: QueueMessage) -> None:
        if self.delete_failures:
            self.delete_failures -= 1
            raise QUEUE_GONE
        self.in_flight.pop(message.receipt_handle, None)
        self.deleted.append(message.receipt_handle)

    def extend(self, message: QueueMessage, seconds: int) -> None:
        self.extended.append(seconds)
        if seconds == 0:
            self._make_visible(message)

    def release(self, message: QueueMessage) -> None:
        if self.release_failures:
            self.release_failures -= 1
            raise QUEUE_GONE
        self.released.append(message.receipt_handle)
        self._make_visible(message)

    def _make_visible(self, message: QueueMessage) -> None:
        held = self.in_flight.pop(message.receipt_handle, None)
        if held is not None and self.redeliver:
            self.messages.append(dataclasses.replace(held, receive_count=held.receive_count + 1))
