"""`ClaimStore` on DynamoDB: one item per deploy, keyed on `command_id`, written only conditionally."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from services.deploy.models import ClaimRecord
from shared.aws.clients import LazyClient, aws_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY = "command_id"
TTL_ATTRIBUTE = "expires_at"
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class DynamoClaimStore:
    """Table with partition key `command_id` (S) and TTL on `expires_at`; the client is built on first use."""

    client: LazyClient[DynamoDBClient] = LazyClient(lambda store: aws_client("dynamodb"))

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client = client

    def create(self, record: ClaimRecord) -> bool:
        item = {name: _SERIALIZER.serialize(value) for name, value in _plain(record).items()}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": KEY},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, command_id: str) -> ClaimRecord | None:
        response = self.client.get_item(TableName=self.table_name, Key={KEY: {"S": command_id}}, ConsistentRead=True)
        item = response.get("Item")
        if not item:
            return None
        return ClaimRecord.model_validate({name: _DESERIALIZER.deserialize(value) for name, value in item.items()})

    def update(self, command_id: str, changes: Mapping[str, Any], *, expect: Mapping[str, Any]) -> bool:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets, removes, conditions = [], [], ["attribute_exists(#key)"]
        names["#key"] = KEY
        for index, (name, value) in enumerate(changes.items()):
            names[f"#c{index}"] = name
            if value is None:
                removes.append(f"#c{index}")
            else:
                values[f":c{index}"] = _SERIALIZER.serialize(_jsonable(value))
                sets.append(f"#c{index} = :c{index}")
        for index, (name, value) in enumerate(expect.items()):
            names[f"#e{index}"] = name
            if value is None:
                conditions.append(f"attribute_not_exists(#e{index})")
            else:
                values[f":e{index}"] = _SERIALIZER.serialize(_jsonable(value))
                conditions.append(f"#e{index} = :e{index}")
        clauses = [f"SET {', '.join(sets)}"] if sets else []
        clauses += [f"REMOVE {', '.join(removes)}"] if removes else []
        expression = " ".join(clauses)
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {KEY: {"S": command_id}},
            "UpdateExpression": expression,
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
        }
        if values:
            arguments["ExpressionAttributeValues"] = values
        try:
            self.client.update_item(**arguments)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _plain(record: ClaimRecord) -> dict[str, Any]:
    """JSON-safe attributes without nulls (DynamoDB `attribute_not_exists` then means "not set")."""
    return {name: value for name, value in record.model_dump(mode="json").items() if value is not None}


def _jsonable(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def create_table(client: DynamoDBClient, name: str) -> None:
    """Create the claims table (on-demand, TTL on `expires_at`) and wait until it is active."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
