"""DynamoDB adapter for `ReplayGuard`; its table is `REPLAYS` in shared/aws/tables.py.

Table: partition key `request_key` (S, a SHA-256 of the request's timestamp and signature), `command_id` (S),
`expires_at` (N, epoch seconds; the TTL attribute). One conditional `PutItem` per published command; the ingress'
role may only `PutItem` and `GetItem` on it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from shared.aws.clients import ClientLimits
from shared.aws.dynamodb_store import DynamoDbStore
from shared.aws.tables import REPLAYS
from shared.deadline import Deadline, run_within
from shared.replay import ReplayGuardUnavailableError, SignedRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)
KEY = REPLAYS.key
TTL_ATTRIBUTE = REPLAYS.ttl_attribute


class DynamoDbReplayGuard(DynamoDbStore):
    """`attribute_not_exists` makes the first writer win across every Lambda instance; the loser reads the
    winner's command id from the same call (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), without a second read.

    DynamoDB's TTL deletes late (hours, even days), never early: a signature stays remembered at least until
    `expires_at`, by which time the signature check itself refuses the request.
    """

    TABLE = REPLAYS
    LIMITS = ClientLimits(connect_timeout=0.5, read_timeout=0.8, total_max_attempts=2)
    """A second try only if the deadline leaves time for it (`run_within` bounds both)."""
    UNAVAILABLE = ReplayGuardUnavailableError
    WHAT = "the request log"

    def first_sighting(self, request: SignedRequest, command_id: str, *, deadline: Deadline) -> str | None:
        client = self.client
        try:
            self._call(lambda: self._put(client, request, command_id), deadline=deadline, doing="written")
        except client.exceptions.ConditionalCheckFailedException as error:
            earlier = self._earlier_id(client, request, error.response, deadline)
            # botocore's own retry of a put that landed but timed out finds our own id: still the first sighting
            return None if earlier == command_id else earlier
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
