"""SQS adapter for `JobQueue`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.backup.ports import QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsJobQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def receive(self, wait_seconds: int) -> list[QueueMessage]:
        response = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            QueueMessage(
                body=message["Body"],
                receipt_handle=message["ReceiptHandle"],
                receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            )
            for message in response.get("Messages", [])
        ]

    def delete(self, message: QueueMessage) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)

    def extend(self, message: QueueMessage, seconds: int) -> None:
        self.client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=seconds
        )

    def release(self, message: QueueMessage) -> None:
        self.extend(message, 0)
