"""DynamoDB adapter for `ReplayGuard`, and its table (`create_table`, used by tests and `make run`).

Table: partition key `request_key` (S, a SHA-256 of the request's timestamp and signature), `command_id` (S),
`expires_at` (N, epoch seconds; the TTL attribute). One conditional `PutItem` per published command; the ingress'
role may only `PutItem` and `GetItem` on it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from shared.aws.clients import ClientLimits, LazyClient, aws_client
from shared.aws.dynamodb_tables import create_table as create_keyed_table
from shared.deadline import Deadline, DeadlineExceededError, run_within
from shared.replay import ReplayGuardUnavailableError, SignedRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)
DEFAULT_TABLE = "slashops-replays"
KEY = "request_key"
TTL_ATTRIBUTE = "expires_at"


class DynamoDbReplayGuard:
    """`attribute_not_exists` makes the first writer win across every Lambda instance; the loser reads the
    winner's command id from the same call (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), without a second read.

    DynamoDB's TTL deletes late (hours, even days), never early: a signature stays remembered at least until
    `expires_at`, by which time the signature check itself refuses the request.
    """

    client: LazyClient[DynamoDBClient] = LazyClient(lambda guard: aws_client("dynamodb", guard.limits))

    def __init__(
        self,
        table_name: str = DEFAULT_TABLE,
        *,
        client: DynamoDBClient | None = None,
        connect_timeout: float = 0.5,
        read_timeout: float = 0.8,
    ) -> None:
        self.table_name = table_name
        # A second try only if the deadline leaves time for it (`run_within` bounds both).
        self.limits = ClientLimits(connect_timeout, read_timeout, total_max_attempts=2)
        self.client = client

    def first_sighting(self, request: SignedRequest, command_id: str, *, deadline: Deadline) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client
        try:
            run_within(deadline, lambda: self._put(client, request, command_id))
        except client.exceptions.ConditionalCheckFailedException as error:
            earlier = self._earlier_id(client, request, error.response, deadline)
            # botocore's own retry of a put that landed but timed out finds our own id: still the first sighting
            return None if earlier == command_id else earlier
        except (BotoCoreError, ClientError, DeadlineExceededError) as error:
            logger.error("replay guard unavailable: %s", type(error).__name__)
            raise ReplayGuardUnavailableError(f"the request log did not answer ({type(error).__name__})") from error
        return None

    def _put(self, client: DynamoDBClient, request: SignedRequest, command_id: str) -> None:
        client.put_item(
            TableName=self.table_name,
            Item={
                KEY: {"S": request.key},
                "command_id": {"S": command_id},
                TTL_ATTRIBUTE: {"N": str(request.forget_after)},
            },
            ConditionExpression="attribute_not_exists(#key)",
            ExpressionAttributeNames={"#key": KEY},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def _earlier_id(self, client: DynamoDBClient, request: SignedRequest, response: Any, deadline: Deadline) -> str:
        """The first sighting's command id; one `GetItem` only if the refusal did not carry the old item."""
        item = response.get("Item") or {}
        if "command_id" not in item:
            try:
                item = run_within(
                    deadline,
                    lambda: client.get_item(
                        TableName=self.table_name, Key={KEY: {"S": request.key}}, ConsistentRead=True
                    ).get("Item", {}),
                )
            except Exception as error:  # the request *is* a replay; only its first id is unknown
                logger.warning("replay: first command id unreadable (%s)", type(error).__name__)
                item = {}
        return str(item.get("command_id", {}).get("S", "")) or "unknown"


def create_table(client: DynamoDBClient, name: str = DEFAULT_TABLE) -> None:
    """The table exactly as infra/ingress.yaml declares it (on-demand, TTL on `expires_at`)."""
    create_keyed_table(client, name, key=KEY, ttl_attribute=TTL_ATTRIBUTE)
