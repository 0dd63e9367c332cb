"""`FollowScheduler` on SQS: the follow message goes back to the deploy queue with `DelaySeconds`."""

from __future__ import annotations

from services.deploy.models import FollowMessage
from shared.aws.sqs import SqsQueue

MAX_DELAY_SECONDS = 900  # SQS' limit


class SqsFollowScheduler(SqsQueue):
    def schedule(self, message: FollowMessage, delay_seconds: int) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.model_dump_json(),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_seconds)),
        )
