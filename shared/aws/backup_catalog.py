"""S3 adapter for `BackupCatalog`: one HEAD on the backup's manifest, with short timeouts (the ingress asks it
within Slack's 3 seconds); the newest backup (the Home) by listing a database's manifests, recent ones first. The
ingress' role may read and list `manifests/*` of the backup bucket and nothing else there."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from shared.aws.clients import ClientLimits, LazyClient, aws_client
from shared.backups import BackupCatalogUnavailableError, backup_database, manifest_key, manifest_prefix
from shared.deadline import Deadline, DeadlineExceededError, run_within

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LIMITS = ClientLimits(connect_timeout=0.5, read_timeout=1.0, total_max_attempts=1)
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
RECENT_WINDOWS_DAYS = (8, 100, None)
"""`latest` lists manifests started within the last 8 days, then 100, then all: keys sort by start time, so the
newest is the last key listed, and a database backed up in the last week costs one short listing."""
PAGES_PER_WINDOW = 2
"""At most this many pages of 1,000 keys per window: more backups than that in one window is refused, not guessed."""


class S3BackupCatalog:
    client: LazyClient[S3Client] = LazyClient(lambda catalog: aws_client("s3", LIMITS))

    def __init__(self, bucket: str, *, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.client = client

    def has_backup(self, database: str, backup_id: str, *, deadline: Deadline | None = None) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        key = manifest_key(database, backup_id)
        try:
            self._head(key, deadline)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in NOT_FOUND:
                return False
            raise BackupCatalogUnavailableError(f"the backup bucket refused a look-up ({error})") from error
        except (BotoCoreError, DeadlineExceededError) as error:
            raise BackupCatalogUnavailableError(f"the backup bucket did not answer ({error})") from error
        return True

    def _head(self, key: str, deadline: Deadline | None) -> None:
        def head() -> Any:
            return self.client.head_object(Bucket=self.bucket, Key=key)

        if deadline is None:
            head()
        else:
            run_within(deadline, head)

    def latest(self, database: str, *, now: int, deadline: Deadline | None = None) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for days in RECENT_WINDOWS_DAYS:
                newest = self._newest_since(database, None if days is None else now - days * 86400, deadline)
                if newest is not None:
                    return newest
        except (ClientError, BotoCoreError, DeadlineExceededError) as error:
            raise BackupCatalogUnavailableError(f"the backup bucket did not list backups ({error})") from error
        return None

    def _newest_since(self, database: str, since: int | None, deadline: Deadline | None) -> str | None:
        prefix = manifest_prefix(database)
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": 1000}
        if since is not None:
            request["StartAfter"] = f"{prefix}{database}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(since))}"
        newest: str | None = None
        for _ in range(PAGES_PER_WINDOW):
            page = self._list(request, deadline)
            ids = [key.removeprefix(prefix).removesuffix(".json") for key in _keys(page)]
            newest = next((found for found in reversed(ids) if backup_database(found) == database), newest)
            if not page.get("IsTruncated"):
                return newest
            request["ContinuationToken"] = page["NextContinuationToken"]
        raise BackupCatalogUnavailableError(f"more than {PAGES_PER_WINDOW * 1000} backups of {database} to list")

    def _list(self, request: dict[str, Any], deadline: Deadline | None) -> Any:
        def list_page() -> Any:
            return self.client.list_objects_v2(**request)

        return list_page() if deadline is None else run_within(deadline, list_page)


def _keys(page: Any) -> list[str]:
    return [str(item["Key"]) for item in page.get("Contents") or () if str(item.get("Key", "")).endswith(".json")]
