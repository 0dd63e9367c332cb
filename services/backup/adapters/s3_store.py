"""S3 adapter for `BackupStore`: multipart uploads, JSON manifests and restore records, a lock object per database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from services.backup.errors import BackupDataMissing, ObjectExists
from services.backup.models import Manifest, RestoreRecord, backup_id_suffix, restore_record_key
from shared.aws.clients import LazyClient, aws_client
from shared.backups import manifest_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LOCK_PREFIX = "locks/"
#: S3's answers to a conditional write whose key exists (412), or that raced another write to it (409)
CONDITION_FAILED = ("PreconditionFailed", "ConditionalRequestConflict")


def _condition_failed(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in CONDITION_FAILED


class S3Upload:
    def __init__(self, client: S3Client, bucket: str, key: str) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
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
    """The client is built on first use."""

    client: LazyClient[S3Client] = LazyClient(lambda store: aws_client("s3"))

    def __init__(
        self, bucket: str, *, client: S3Client | None = None, stale_after: timedelta = timedelta(hours=12)
    ) -> None:
        self.bucket = bucket
        self.stale_after = stale_after
        self.client = client

    def start_upload(self, key: str) -> S3Upload:
        return S3Upload(self.client, self.bucket, key)

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

    def _put_new(self, key: str, body: bytes) -> None:
        """A JSON object written only as a new key; `ObjectExists` if the key is taken."""
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*"
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
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

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
            self.client.put_object(Bucket=self.bucket, Key=f"{LOCK_PREFIX}{database}", Body=body, IfNoneMatch="*")
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
