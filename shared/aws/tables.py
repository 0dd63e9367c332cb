"""Every DynamoDB table slashops has, stated once: its name, the variable that overrides it, its keys and its TTL.

The adapters take their key and default name from here, `make run` and the tests create the tables from here
(`create_table`), and tests/unit/infra/test_tables.py checks infra/*.yaml against it: the same keys, indexes and
TTL attribute, the same default name, and the name handed to each function under the variable named here.
CloudFormation creates the tables in AWS. Every table is on-demand, keyed by one string attribute, with a TTL; the
ones holding state or the audit trail have point-in-time recovery there (docs/operations.md "Security scan").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.settings import setting

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Index:
    """A global secondary index on string attributes, every attribute projected."""

    name: str
    hash_key: str
    range_key: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)


@dataclass(frozen=True)
class Table:
    """One table: `name` is its default (and local) name, `variable` the environment variable naming it in AWS."""

    name: str
    variable: str
    key: str
    ttl_attribute: str
    indexes: tuple[Index, ...] = ()
    point_in_time_recovery: bool = True
    """In AWS (the template's `PointInTimeRecoverySpecification`): restorable to any second of the last 35 days."""

    def name_in(self, env: Mapping[str, str]) -> str:
        """The table's name as a unit's environment gives it, or the default."""
        return setting(env, self.variable, self.name)

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every attribute a key schema names (all strings): the table's key first, then the indexes' keys."""
        named = [self.key, *(key for index in self.indexes for key in index.keys)]
        return tuple(dict.fromkeys(named))


RECENT = Index("recent", hash_key="recent_pk", range_key="recent_sk")
"""The ledger's index: every command under one partition, newest first (shared/ledger/dynamodb.py)."""

LEDGER = Table(
    "slashops-ledger", "SLASHOPS_LEDGER_TABLE", key="command_id", ttl_attribute="expires_at", indexes=(RECENT,)
)
"""The command ledger (infra/notifier.yaml): what the notifier records, what `status` and `history` read."""
DEPLOYS = Table("slashops-deploy", "SLASHOPS_DEPLOY_TABLE", key="command_id", ttl_attribute="expires_at")
"""The deploy service's claims and target holds (infra/deploy-service.yaml)."""
REPLAYS = Table(
    "slashops-replays",
    "SLASHOPS_REPLAY_TABLE",
    key="request_key",
    ttl_attribute="expires_at",
    point_in_time_recovery=False,
)
"""The signatures of the requests the ingress published (infra/ingress.yaml). Not point-in-time recoverable: an item
matters only until its signature is stale (minutes), and a restore takes longer."""
LOCKS = Table("slashops-locks", "SLASHOPS_LOCK_TABLE", key="target", ttl_attribute="expires_at")
"""Deploy locks, one item per client and environment (infra/ingress.yaml; the deploy service reads it)."""
DUE = Index("due", hash_key="due_pk", range_key="due_at")
"""The approval table's sparse index: only pending approvals carry `due_pk`, sorted by when their reminder is due
(`due_at`), so the sweeper reads what is due without scanning the table (shared/aws/approval_store.py)."""
APPROVALS = Table(
    "slashops-approvals", "SLASHOPS_APPROVAL_TABLE", key="approval_id", ttl_attribute="forget_at", indexes=(DUE,)
)
"""Commands held for approval (infra/ingress.yaml)."""

TABLES = (LEDGER, DEPLOYS, REPLAYS, LOCKS, APPROVALS)


def create_table(client: DynamoDBClient, table: Table, name: str | None = None) -> None:
    """Create `table` (named `name`, else its default name), wait until it is active, then turn its TTL on."""
    name = name or table.name
    options: dict[str, Any] = {}
    if table.indexes:
        options["GlobalSecondaryIndexes"] = [_index(index) for index in table.indexes]
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": attribute, "AttributeType": "S"} for attribute in table.attributes],
        KeySchema=[{"AttributeName": table.key, "KeyType": "HASH"}],
        **options,
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
    )


def _index(index: Index) -> dict[str, Any]:
    schema = [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
    if index.range_key is not None:
        schema.append({"AttributeName": index.range_key, "KeyType": "RANGE"})
    return {"IndexName": index.name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}
