"""`LockStore` on DynamoDB: one item per client and environment (`target` = `client#env`), TTL on `expires_at`.

Every write is conditional, so two `lock`s at once have one winner, and the loser reads the winner's lock from the
refusal itself (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), without a second read. Every call is bounded by the
caller's deadline (`run_within`): the ingress answers Slack within 3 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.aws.clients import ClientLimits
from shared.aws.dynamodb_store import DynamoDbStore, refused_item
from shared.aws.tables import LOCKS
from shared.deadline import Deadline
from shared.locks.models import Lock, target_key
from shared.locks.port import LockStoreUnavailableError

KEY = LOCKS.key
TTL_ATTRIBUTE = LOCKS.ttl_attribute
_NUMBERS = ("locked_at", "expires_at")


class DynamoDbLockStore(DynamoDbStore):
    """Short timeouts and at most two tries: the deadline passed to each call bounds both."""

    TABLE = LOCKS
    LIMITS = ClientLimits(connect_timeout=0.5, read_timeout=1.0, total_max_attempts=2)
    UNAVAILABLE = LockStoreUnavailableError
    WHAT = "the lock table"

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
            self._call(put, deadline=deadline)
        except client.exceptions.ConditionalCheckFailedException as error:
            held = _lock(refused_item(error))
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
            deadline=deadline,
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
            self._call(delete, deadline=deadline)
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

        return self._call(scan, deadline=deadline)


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
