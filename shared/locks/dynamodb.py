"""`LockStore` on DynamoDB: one item per client and environment (`target` = `client#env`), TTL on `expires_at`.

Every write is conditional, so two `lock`s at once have one winner, and the loser reads the winner's lock from the
refusal itself (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), without a second read. Every call is bounded by the
caller's deadline (`run_within`): the ingress answers Slack within 3 s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shared.aws.clients import ClientLimits, LazyClient, aws_client
from shared.aws.dynamodb_tables import create_table as create_keyed_table
from shared.deadline import Deadline, DeadlineExceededError, run_within
from shared.locks.models import Lock, target_key
from shared.locks.port import LockStoreUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)
DEFAULT_TABLE = "slashops-locks"
KEY = "target"
TTL_ATTRIBUTE = "expires_at"
_NUMBERS = ("locked_at", "expires_at")


class DynamoDbLockStore:
    """Short timeouts and at most two tries: the deadline passed to each call bounds both."""

    client: LazyClient[DynamoDBClient] = LazyClient(lambda store: aws_client("dynamodb", store.limits))

    def __init__(
        self,
        table_name: str = DEFAULT_TABLE,
        *,
        client: DynamoDBClient | None = None,
        connect_timeout: float = 0.5,
        read_timeout: float = 1.0,
    ) -> None:
        self.table_name = table_name
        self.limits = ClientLimits(connect_timeout, read_timeout, total_max_attempts=2)
        self.client = client

    def acquire(self, lock: Lock, *, now: int, deadline: Deadline) -> Lock | None:
        client = self.client

        def put() -> None:
            client.put_item(
                TableName=self.table_name,
                Item=_item(lock),
                ConditionExpression="attribute_not_exists(#t) OR #exp <= :now OR #holder = :holder",
                ExpressionAttributeNames={"#t": KEY, "#exp": TTL_ATTRIBUTE, "#holder": "holder"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":holder": {"S": lock.holder}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )

        try:
            self._call(put, deadline)
        except client.exceptions.ConditionalCheckFailedException as error:
            held = _lock(_old_item(error))
            if held is None:  # the condition fails only on an existing item, which comes with the refusal
                raise LockStoreUnavailableError("the lock table refused the lock without naming its holder") from error
            return held
        return None

    def get(self, client: str, env: str, *, deadline: Deadline) -> Lock | None:
        dynamodb = self.client
        response = self._call(
            lambda: dynamodb.get_item(
                TableName=self.table_name, Key={KEY: {"S": target_key(client, env)}}, ConsistentRead=True
            ),
            deadline,
        )
        return _lock(response.get("Item"))

    def release(self, lock: Lock, *, deadline: Deadline) -> bool:
        client = self.client

        def delete() -> None:
            client.delete_item(
                TableName=self.table_name,
                Key={KEY: {"S": lock.target}},
                ConditionExpression="#holder = :holder AND #at = :at",
                ExpressionAttributeNames={"#holder": "holder", "#at": "locked_at"},
                ExpressionAttributeValues={":holder": {"S": lock.holder}, ":at": {"N": str(lock.locked_at)}},
            )

        try:
            self._call(delete, deadline)
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def active(self, *, now: int, deadline: Deadline) -> list[Lock]:
        """A scan: the table holds one item per locked target, a handful at most."""
        client = self.client

        def scan() -> list[Lock]:
            locks: list[Lock] = []
            arguments: dict[str, Any] = {
                "TableName": self.table_name,
                "FilterExpression": "#exp > :now",
                "ExpressionAttributeNames": {"#exp": TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {":now": {"N": str(now)}},
                "ConsistentRead": True,
            }
            while True:
                page = client.scan(**arguments)
                locks.extend(lock for item in page.get("Items", []) if (lock := _lock(item)) is not None)
                if "LastEvaluatedKey" not in page:
                    return sorted(locks, key=lambda lock: (lock.client, lock.env))
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        return self._call(scan, deadline)

    def _call[T](self, call: Callable[[], T], deadline: Deadline) -> T:
        """`call()` within `deadline`; anything but a refused condition means the store could not answer."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return run_within(deadline, call)
        except self.client.exceptions.ConditionalCheckFailedException:
            raise
        except (BotoCoreError, ClientError, DeadlineExceededError) as error:
            logger.error("lock store unavailable: %s", type(error).__name__)
            raise LockStoreUnavailableError(f"the lock table did not answer ({type(error).__name__})") from error


def _old_item(error: Exception) -> Mapping[str, Any] | None:
    """The item a refused write returns (`ALL_OLD`); None if there was none."""
    item = getattr(error, "response", {}).get("Item")
    return item if isinstance(item, dict) else None


def _item(lock: Lock) -> dict[str, Any]:
    values = lock.model_dump()
    item: dict[str, Any] = {KEY: {"S": lock.target}}
    for name, value in values.items():
        item[name] = {"N": str(value)} if name in _NUMBERS else {"S": str(value)}
    return item


def _lock(item: Mapping[str, Any] | None) -> Lock | None:
    if not item:
        return None
    plain = {name: next(iter(value.values())) for name, value in item.items() if name != KEY}
    return Lock.model_validate({name: int(value) if name in _NUMBERS else value for name, value in plain.items()})


def create_table(client: DynamoDBClient, name: str = DEFAULT_TABLE) -> None:
    """The table exactly as infra/ingress.yaml declares it (on-demand, TTL on `expires_at`)."""
    create_keyed_table(client, name, key=KEY, ttl_attribute=TTL_ATTRIBUTE)
