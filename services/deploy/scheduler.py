"""`FollowScheduler` on SQS: the follow message goes back to the deploy queue with `DelaySeconds`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.deploy.models import FollowMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS' limit


class SqsFollowScheduler:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def schedule(self, message: FollowMessage, delay_seconds: int) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.model_dump_json(),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_seconds)),
        )
