"""`FollowScheduler` on SQS: the follow message goes back to the deploy queue with `DelaySeconds`."""

from __future__ import annotations

from services.deploy.models import FollowMessage
from shared.aws.sqs import SqsQueue


class SqsFollowScheduler(SqsQueue):
    """The caller keeps the delay within SQS' limit (`ports.MAX_DELAY_SECONDS`); SQS refuses a longer one."""

    def schedule(self, message: FollowMessage, delay_seconds: int) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url, MessageBody=message.model_dump_json(), DelaySeconds=delay_seconds
        )
