"""Provision the local AWS for `make run`: the bus stack from `infra/bus.yaml`, the tables, the bucket.

Everything here is what CloudFormation creates in AWS; locally the bus stack comes from the very same
template, and the DynamoDB tables from the services' own `create_table` helpers (moto's server: DynamoDB
does not run in LocalStack on these machines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3

from services.deploy.adapters.dynamodb_claims import create_table as create_deploy_table
from shared.aws.approval_store import create_table as create_approval_table
from shared.aws.replay_guard import create_table as create_replay_table
from shared.commands.routing import routes
from shared.ledger.dynamodb import create_table as create_ledger_table
from shared.locks.dynamodb import create_table as create_lock_table
from tools.local_aws import FAKE_CREDENTIALS
from tools.local_state import LocalStores
from tools.routes import LISTENERS, logical_name
from tools.stacks import BUS_TEMPLATE, StackError, create_stack, ensure_archive

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LOCAL_PREFIX = "slashops"
LOCAL_BUCKET = "slashops-backups-local"
LEDGER_TABLE = "slashops-ledger"
DEPLOY_TABLE = "slashops-deploy"
REPLAY_TABLE = "slashops-replays"
LOCK_TABLE = "slashops-locks"
APPROVAL_TABLE = "slashops-approvals"
LOCAL_BUS_PARAMETERS = {
    "Prefix": LOCAL_PREFIX,
    "VisibilityTimeout": "30",  # a local consumer that crashed gets the message again within 30 s
    "BackupVisibilityTimeout": "300",
    "MaxReceiveCount": "5",
    "ArchiveRetentionDays": "1",
}


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str


def local_consumers() -> list[str]:
    """Every consumer with a queue on the bus: those the catalog routes commands to, then the listeners."""
    return [*routes(), *LISTENERS]


@dataclass(frozen=True)
class LocalResources:
    bus_name: str
    queues: dict[str, Queue]
    """By consumer (`local_consumers()`): the bus stack's `<Name>QueueUrl` / `<Name>QueueArn` outputs."""
    bucket: str
    ledger_table: str
    deploy_table: str
    replay_table: str = REPLAY_TABLE
    lock_table: str = LOCK_TABLE
    approval_table: str = APPROVAL_TABLE

    def env(self) -> dict[str, str]:
        """The contract's environment names, as every local consumer reads them."""
        queues = {f"SLASHOPS_{queue_env_name(name)}_QUEUE_URL": queue.url for name, queue in self.queues.items()}
        return {
            "SLASHOPS_EVENT_BUS": self.bus_name,
            **queues,
            "SLASHOPS_BACKUP_BUCKET": self.bucket,
            "SLASHOPS_LEDGER_TABLE": self.ledger_table,
            "SLASHOPS_DEPLOY_TABLE": self.deploy_table,
            "SLASHOPS_REPLAY_TABLE": self.replay_table,
            "SLASHOPS_LOCK_TABLE": self.lock_table,
            "SLASHOPS_APPROVAL_TABLE": self.approval_table,
        }


def queue_env_name(consumer: str) -> str:
    """`deploy` -> `DEPLOY` (in `SLASHOPS_DEPLOY_QUEUE_URL`), `cdn-purge` -> `CDN_PURGE`."""
    return consumer.upper().replace("-", "_")


def provision(aws_endpoint: str, dynamodb_endpoint: str, *, region: str = "us-east-1") -> LocalResources:
    session = boto3.Session(
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    outputs = create_stack(
        session.client("cloudformation", endpoint_url=aws_endpoint), "slashops-bus", BUS_TEMPLATE, LOCAL_BUS_PARAMETERS
    )
    ensure_archive(session.client("events", endpoint_url=aws_endpoint), prefix=LOCAL_PREFIX, bus_arn=outputs["BusArn"])
    session.client("s3", endpoint_url=aws_endpoint).create_bucket(Bucket=LOCAL_BUCKET)
    create_tables(session.client("dynamodb", endpoint_url=dynamodb_endpoint))
    return LocalResources(
        bus_name=outputs["BusName"],
        queues={consumer: _queue(outputs, consumer) for consumer in local_consumers()},
        bucket=LOCAL_BUCKET,
        ledger_table=LEDGER_TABLE,
        deploy_table=DEPLOY_TABLE,
    )


def _queue(outputs: dict[str, str], consumer: str) -> Queue:
    name = logical_name(consumer)
    try:
        return Queue(url=outputs[f"{name}QueueUrl"], arn=outputs[f"{name}QueueArn"])
    except KeyError as missing:
        raise StackError(
            f"infra/bus.yaml has no output {missing} for the {consumer!r} consumer: "
            "add its queue (`python -m tools.routes` says what is missing)"
        ) from None


def create_tables(client: DynamoDBClient) -> None:
    """Each service's table through its own helper (the same key schema CloudFormation declares)."""
    create_ledger_table(client, LEDGER_TABLE)
    create_deploy_table(client, DEPLOY_TABLE)
    create_replay_table(client, REPLAY_TABLE)
    create_lock_table(client, LOCK_TABLE)
    create_approval_table(client, APPROVAL_TABLE)


def local_stores(aws_endpoint: str, dynamodb_endpoint: str, resources: LocalResources) -> LocalStores:
    """What holds `make run`'s state (tools/local_state.py): its tables, its bucket and its queues."""
    session = boto3.Session(
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    return LocalStores(
        dynamodb=session.client("dynamodb", endpoint_url=dynamodb_endpoint),
        s3=session.client("s3", endpoint_url=aws_endpoint),
        sqs=session.client("sqs", endpoint_url=aws_endpoint),
        tables=(
            resources.ledger_table,
            resources.deploy_table,
            resources.replay_table,
            resources.lock_table,
            resources.approval_table,
        ),
        bucket=resources.bucket,
        queue_prefix=f"{LOCAL_PREFIX}-",
    )
