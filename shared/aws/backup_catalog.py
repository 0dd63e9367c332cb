"""S3 adapter for `BackupCatalog`: one HEAD on the backup's manifest, with short timeouts (the ingress asks it
within Slack's 3 seconds). The ingress' role may read `manifests/*` of the backup bucket and nothing else there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.aws.clients import ClientLimits, LazyClient, aws_client
from shared.backups import BackupCatalogUnavailableError, manifest_key
from shared.deadline import Deadline, DeadlineExceededError, run_within

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LIMITS = ClientLimits(connect_timeout=0.5, read_timeout=1.0, total_max_attempts=1)
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


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
