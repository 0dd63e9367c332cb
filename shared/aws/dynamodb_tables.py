"""Creating a table as infra/*.yaml declares it, for `make run` and the tests (CloudFormation does it in AWS).

Every slashops table is on-demand, keyed by one string attribute, with a TTL attribute; the ledger adds an index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def create_table(
    client: DynamoDBClient,
    name: str,
    *,
    key: str,
    ttl_attribute: str,
    indexes: Sequence[dict[str, Any]] = (),
    index_attributes: Sequence[str] = (),
) -> None:
    """Create the table, wait until it is active, then turn its TTL on."""
    attributes = [{"AttributeName": attribute, "AttributeType": "S"} for attribute in (key, *index_attributes)]
    options: dict[str, Any] = {"GlobalSecondaryIndexes": list(indexes)} if indexes else {}
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=attributes,  # type: ignore[arg-type]
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        **options,
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
    )
