"""The part every SQS adapter shares: one queue, and a client built on first use (never at import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.aws.clients import LazyClient, aws_client

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsQueue:
    client: LazyClient[SQSClient] = LazyClient(lambda queue: aws_client("sqs"))

    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self.client = client
