"""S3 adapter for `BackupStore`: multipart uploads, JSON manifests and restore records, a lock object per database,
a marker per backup being read; every object written with SSE-KMS under the stack's key when one is set."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from services.backup.errors import BackupDataMissing, ObjectExists
from services.backup.models import (
    Manifest,
    RestoreRecord,
    Verification,
    VerificationMark,
    backup_id_suffix,
    newest_marks,
    object_key,
    restore_record_key,
    verification_key,
    verification_prefix,
)
from services.backup.ports import BackupListing
from services.backup.reading import marker_key, markers_prefix, plain_backup_id, reader_of
from shared.aws.clients import LazyClient, aws_client
from shared.backups import manifest_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ListObjectsV2OutputTypeDef

LOCK_PREFIX = "locks/"
#: S3's answers to a conditional write whose key exists (412), or that raced another write to it (409)
CONDITION_FAILED = ("PreconditionFailed", "ConditionalRequestConflict")


def _condition_failed(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in CONDITION_FAILED


def encryption(kms_key_id: str | None) -> dict[str, str]:
    """What every PutObject / CreateMultipartUpload carries: SSE-KMS under the stack's key (the bucket policy refuses
    any other encryption or key); nothing when no key is set (local runs: the bucket's default applies)."""
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}


def _newest_first(found: list[Manifest], problem: str | None = None) -> BackupListing:
    return BackupListing(sorted(found, key=lambda manifest: manifest.finished_at, reverse=True), problem)


class S3Upload:
    def __init__(self, client: S3Client, bucket: str, key: str, kms_key_id: str | None = None) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        created = client.create_multipart_upload(Bucket=bucket, Key=key, **encryption(kms_key_id))  # type: ignore[arg-type]
        self._upload_id = created["UploadId"]
        self._parts: list[dict[str, Any]] = []

    def upload_part(self, number: int, data: bytes | bytearray) -> None:
        """A bytearray is sent as it is (bytes would be wrapped in a file object, read again in 16 KiB blocks)."""
        response = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,  # type: ignore[arg-type]  # botocore takes a bytearray as a blob
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def complete(self) -> None:
        """Only if the key is new (`If-None-Match: *`, which the task role requires): never replaces a backup."""
        try:
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},  # type: ignore[typeddict-item]
                IfNoneMatch="*",
            )
        except self._client.exceptions.ClientError as error:
            if _condition_failed(error):
                raise ObjectExists(self._key) from error
            raise

    def abort(self) -> None:
        self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)


class S3BackupStore:
    """The client is built on first use. `kms_key_id`: the KMS key (ARN) every object is encrypted under;
    `page_size`: keys per listing page (S3's most, 1000, but for tests)."""

    client: LazyClient[S3Client] = LazyClient(lambda store: aws_client("s3"))

    def __init__(
        self,
        bucket: str,
        *,
        client: S3Client | None = None,
        stale_after: timedelta = timedelta(hours=12),
        kms_key_id: str | None = None,
        page_size: int = 1000,
    ) -> None:
        self.bucket = bucket
        self.stale_after = stale_after
        self.client = client
        self.kms_key_id = kms_key_id or None
        self.page_size = page_size

    def start_upload(self, key: str) -> S3Upload:
        return S3Upload(self.client, self.bucket, key, self.kms_key_id)

    def put_manifest(self, manifest: Manifest) -> None:
        """Only if no manifest has that key (`If-None-Match: *`): a listed backup's description never changes."""
        self._put_new(manifest_key(manifest.database, manifest.backup_id), manifest.model_dump_json().encode())

    def restore_record(self, database: str, command_id: str) -> RestoreRecord | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=restore_record_key(database, command_id))
        except self.client.exceptions.NoSuchKey:
            return None
        return RestoreRecord.model_validate_json(body["Body"].read())

    def put_restore_record(self, record: RestoreRecord) -> None:
        """Only if the command has none (`If-None-Match: *`, which the task role requires): the first one stays."""
        self._put_new(restore_record_key(record.database, record.command_id), record.model_dump_json().encode())

    def put_verification(self, verification: Verification) -> None:
        """Only as a new key (`If-None-Match: *`, which the task role requires): a result is never replaced."""
        self._put_new(verification_key(verification), verification.model_dump_json().encode())

    def verifications(self, database: str) -> dict[str, VerificationMark]:
        """One listing: each record's key says its backup, result and time (`models.verification_key`)."""
        paginator = self.client.get_paginator("list_objects_v2")
        keys = (
            item["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=verification_prefix(database))
            for item in page.get("Contents", [])
        )
        return newest_marks(database, keys)

    def _put_new(self, key: str, body: bytes) -> None:
        """A JSON object written only as a new key; `ObjectExists` if the key is taken."""
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
                **encryption(self.kms_key_id),  # type: ignore[arg-type]
            )
        except self.client.exceptions.ClientError as error:
            if _condition_failed(error):
                raise ObjectExists(key) from error
            raise

    def manifests(self, database: str) -> list[Manifest]:
        found = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"manifests/{database}/"):
            for item in page.get("Contents", []):
                body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                found.append(Manifest.model_validate_json(body))
        return sorted(found, key=lambda manifest: manifest.finished_at, reverse=True)

    def backup_by_command(self, database: str, command_id: str) -> Manifest | None:
        """Lists the keys, but reads only the manifests whose backup id ends as the command's do (one, as a rule)."""
        suffix = f"{backup_id_suffix(command_id)}.json"
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"manifests/{database}/"):
            for item in page.get("Contents", []):
                if item["Key"].endswith(suffix):
                    body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                    manifest = Manifest.model_validate_json(body)
                    if manifest.command_id == command_id:
                        return manifest
        return None

    def manifest(self, database: str, backup_id: str) -> Manifest | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=manifest_key(database, backup_id))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        return Manifest.model_validate_json(body)

    def read(self, key: str, chunk_size: int) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self.client.exceptions.NoSuchKey as error:
            raise BackupDataMissing(key) from error
        yield from body.iter_chunks(chunk_size)

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head["ContentLength"]

    def acquire_lock(self, database: str, owner: str) -> str | None:
        """A conditional put (`If-None-Match: *`) succeeds for exactly one worker.

        A lock older than `stale_after` (its worker died without releasing it) is taken over once.
        """
        for _ in range(2):
            if self._put_lock(database, owner):
                return None
            holder, since = self._lock_holder(database)
            if since is None or datetime.now(UTC) - since < self.stale_after:
                return holder
            self.release_lock(database)
        return "another job"

    def _put_lock(self, database: str, owner: str) -> bool:
        body = json.dumps({"owner": owner, "since": datetime.now(UTC).isoformat()}).encode()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=f"{LOCK_PREFIX}{database}",
                Body=body,
                IfNoneMatch="*",
                **encryption(self.kms_key_id),  # type: ignore[arg-type]
            )
        except self.client.exceptions.ClientError as error:
            if not _condition_failed(error):
                raise
            return False
        return True

    def release_lock(self, database: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=f"{LOCK_PREFIX}{database}")

    def _lock_holder(self, database: str) -> tuple[str, datetime | None]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=f"{LOCK_PREFIX}{database}")["Body"].read()
            data = json.loads(body)
            return str(data.get("owner", "another job")), datetime.fromisoformat(data["since"])
        except Exception:  # the holder just released it, or wrote garbage: still busy for this attempt
            return "another job", None

    # --- retention: a complete listing, deletion within one database's prefixes, markers of backups being read ---

    def list_backups(self, database: str) -> BackupListing:
        """Page by page (`ContinuationToken`): a page that fails, or says it is truncated without saying where to go
        on, or a manifest that cannot be read, makes the listing incomplete (`problem`) instead of short."""
        found: list[Manifest] = []
        token: str | None = None
        for number in itertools.count(1):
            try:
                page = self._manifests_page(database, token)
            except Exception as error:  # S3 unreachable, throttled, access denied: not a short listing
                return _newest_first(found, f"listing page {number} failed ({type(error).__name__})")
            for item in page.get("Contents", []):
                problem = self._read_manifest_into(found, item["Key"])
                if problem:
                    return _newest_first(found, problem)
            if not page.get("IsTruncated"):
                return _newest_first(found)
            token = page.get("NextContinuationToken")
            if not token:
                return _newest_first(found, f"listing page {number} was truncated without a continuation token")
        raise AssertionError("unreachable")  # itertools.count never ends

    def _manifests_page(self, database: str, token: str | None) -> ListObjectsV2OutputTypeDef:
        prefix = f"manifests/{database}/"
        if token is None:
            return self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=self.page_size)
        return self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=prefix, MaxKeys=self.page_size, ContinuationToken=token
        )

    def _read_manifest_into(self, found: list[Manifest], key: str) -> str | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            found.append(Manifest.model_validate_json(body))
        except ValidationError:
            return f"`{key}` is not a manifest slashops can read (an admin fixes or deletes it)"
        except Exception as error:
            return f"`{key}` could not be read ({type(error).__name__})"
        return None

    def delete_backup(self, database: str, backup_id: str) -> None:
        """The manifest first (a backup without one is not listed, so nothing starts reading it), then the data.

        The bucket is versioned: each delete leaves a delete marker, and the deleted version stays recoverable until
        the lifecycle's noncurrent-version expiry.
        """
        plain_backup_id(backup_id)
        self.client.delete_object(Bucket=self.bucket, Key=manifest_key(database, backup_id))
        self.client.delete_object(Bucket=self.bucket, Key=object_key(database, backup_id))

    def start_reading(self, database: str, backup_id: str, reader: str) -> None:
        body = json.dumps({"reader": reader, "since": datetime.now(UTC).isoformat()}).encode()
        self.client.put_object(
            Bucket=self.bucket,
            Key=marker_key(database, backup_id, reader),
            Body=body,
            IfNoneMatch="*",
            **encryption(self.kms_key_id),  # type: ignore[arg-type]
        )

    def stop_reading(self, database: str, backup_id: str, reader: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=marker_key(database, backup_id, reader))

    def readers(self, database: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=markers_prefix(database)):
            for item in page.get("Contents", []):
                backup_id, reader = reader_of(database, item["Key"])
                found.setdefault(backup_id, []).append(reader)
        return found
