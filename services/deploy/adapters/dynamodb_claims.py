"""`ClaimStore` on DynamoDB: one item per deploy, keyed on `command_id`, written only conditionally.

The same table holds one item per target being deployed (`target#<client>#<env>`, never a command id: those are
hex), naming the deploy that holds it (`holder`; removed on release, so a free target may still have an item).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from services.deploy.models import ClaimRecord, TargetHold
from services.deploy.ports import ClaimChange, ClaimWrite
from shared.aws.dynamodb_store import DynamoDbStore, refused_item
from shared.aws.tables import DEPLOYS

KEY = DEPLOYS.key
TTL_ATTRIBUTE = DEPLOYS.ttl_attribute
TARGET_TTL_SECONDS = 7 * 86400
"""When DynamoDB may delete a hold nobody released (housekeeping only: a stale hold is taken over long before)."""
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class DynamoClaimStore(DynamoDbStore):
    """Table with partition key `command_id` (S) and TTL on `expires_at`; the client is built on first use, with
    botocore's default timeouts and retries (no caller waits on it: SQS delivers again whatever fails).

    A refused conditional write returns the item as it stood (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), so
    the caller learns why it lost without a second read. Any other failure is raised as botocore raises it, for
    the queue to deliver the message again.
    """

    TABLE = DEPLOYS

    def create(self, record: ClaimRecord) -> ClaimRecord | None:
        item = {name: _SERIALIZER.serialize(value) for name, value in _plain(record).items()}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": KEY},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            existing = _record(refused_item(error))
            if existing is None:  # the condition can only fail on an existing item, which comes with the error
                raise
            return existing
        return None

    def get(self, command_id: str) -> ClaimRecord | None:
        response = self.client.get_item(TableName=self.table_name, Key={KEY: {"S": command_id}}, ConsistentRead=True)
        return _record(response.get("Item"))

    def apply(self, command_id: str, change: ClaimChange, *, read_back: bool = False) -> ClaimWrite:
        arguments = _update_arguments(self.table_name, command_id, change)
        if read_back:
            arguments["ReturnValues"] = "ALL_NEW"
        try:
            response = self.client.update_item(**arguments)
        except self.client.exceptions.ConditionalCheckFailedException as error:
            return ClaimWrite(applied=False, current=_record(refused_item(error)))
        return ClaimWrite(applied=True, current=_record(response.get("Attributes")) if read_back else None)

    def take_target(self, hold: TargetHold, *, stale_before: int) -> TargetHold | None:
        item = {
            KEY: target_key(hold.client, hold.env),
            "holder": hold.command_id,
            "requested_by": hold.requested_by,
            "since": hold.since,
            "client": hold.client,
            "env": hold.env,
            TTL_ATTRIBUTE: hold.since + TARGET_TTL_SECONDS,
        }
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={name: _SERIALIZER.serialize(value) for name, value in item.items()},
                ConditionExpression="attribute_not_exists(#holder) OR #holder = :holder OR #since < :stale_before",
                ExpressionAttributeNames={"#holder": "holder", "#since": "since"},
                ExpressionAttributeValues={
                    ":holder": {"S": hold.command_id},
                    ":stale_before": {"N": str(stale_before)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            old = refused_item(error)
            if not old:  # the condition can only fail on a held item, which comes with the error
                raise
            held = {name: _DESERIALIZER.deserialize(value) for name, value in old.items()}
            return TargetHold.model_validate({**held, "command_id": held.get("holder")})
        return None

    def release_target(self, client: str, env: str, command_id: str) -> bool:
        try:
            self.client.update_item(  # not DeleteItem: the service's role may only get, put and update claims
                TableName=self.table_name,
                Key={KEY: {"S": target_key(client, env)}},
                UpdateExpression="REMOVE #holder",
                ConditionExpression="#holder = :holder",
                ExpressionAttributeNames={"#holder": "holder"},
                ExpressionAttributeValues={":holder": {"S": command_id}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def target_key(client: str, env: str) -> str:
    """The hold's key: `#` never appears in a client name or environment (both are identifiers)."""
    return f"target#{client}#{env}"


def _update_arguments(table_name: str, command_id: str, change: ClaimChange) -> dict[str, Any]:
    """`UpdateItem` arguments: SET the values, REMOVE the Nones, on condition that the item and `expect` hold."""
    names: dict[str, str] = {"#key": KEY}
    values: dict[str, Any] = {}
    sets, removes, conditions = [], [], ["attribute_exists(#key)"]
    for index, (name, value) in enumerate(change.changes.items()):
        names[f"#c{index}"] = name
        if value is None:
            removes.append(f"#c{index}")
        else:
            values[f":c{index}"] = _SERIALIZER.serialize(value)
            sets.append(f"#c{index} = :c{index}")
    for index, (name, value) in enumerate(change.expect.items()):
        names[f"#e{index}"] = name
        if value is None:
            conditions.append(f"attribute_not_exists(#e{index})")
        else:
            values[f":e{index}"] = _SERIALIZER.serialize(value)
            conditions.append(f"#e{index} = :e{index}")
    clauses = [f"SET {', '.join(sets)}"] if sets else []
    clauses += [f"REMOVE {', '.join(removes)}"] if removes else []
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "Key": {KEY: {"S": command_id}},
        "UpdateExpression": " ".join(clauses),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if values:
        arguments["ExpressionAttributeValues"] = values
    return arguments


def _record(item: Mapping[str, Any] | None) -> ClaimRecord | None:
    if not item:
        return None
    return ClaimRecord.model_validate({name: _DESERIALIZER.deserialize(value) for name, value in item.items()})


def _plain(record: ClaimRecord) -> dict[str, Any]:
    """JSON-safe attributes without nulls (DynamoDB `attribute_not_exists` then means "not set")."""
    return {name: value for name, value in record.model_dump(mode="json").items() if value is not None}
