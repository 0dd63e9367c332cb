"""Provision the local AWS for `make run`: the bus stack from `infra/bus.yaml`, the tables, the bucket.

Everything here is what CloudFormation creates in AWS; locally the bus stack comes from the very same
template, and the DynamoDB tables from the services' own `create_table` helpers (moto's server: DynamoDB
does not run in LocalStack on these machines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3

from services.deploy.claims import create_table as create_deploy_table
from shared.aws.replay_guard import create_table as create_replay_table
from shared.ledger.dynamodb import create_table as create_ledger_table
from tools.local_aws import FAKE_CREDENTIALS
from tools.stacks import BUS_TEMPLATE, create_stack, ensure_archive

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LOCAL_PREFIX = "slashops"
LOCAL_BUCKET = "slashops-backups-local"
LEDGER_TABLE = "slashops-ledger"
DEPLOY_TABLE = "slashops-deploy"
REPLAY_TABLE = "slashops-replays"
LOCAL_BUS_PARAMETERS = {
    "Prefix": LOCAL_PREFIX,
    "VisibilityTimeout": "30",  # a local consumer that crashed gets the message again within 30 s
    "BackupVisibilityTimeout": "300",
    "MaxReceiveCount": "5",
    "ArchiveRetentionDays": "1",
}


@dataclass(frozen=True)
class LocalResources:
    bus_name: str
    deploy_queue_url: str
    deploy_queue_arn: str
    backup_queue_url: str
    backup_queue_arn: str
    notifier_queue_url: str
    notifier_queue_arn: str
    bucket: str
    ledger_table: str
    deploy_table: str
    replay_table: str = REPLAY_TABLE

    def env(self) -> dict[str, str]:
        """The contract's environment names, as every local consumer reads them."""
        return {
            "SLASHOPS_EVENT_BUS": self.bus_name,
            "SLASHOPS_DEPLOY_QUEUE_URL": self.deploy_queue_url,
            "SLASHOPS_BACKUP_QUEUE_URL": self.backup_queue_url,
            "SLASHOPS_NOTIFIER_QUEUE_URL": self.notifier_queue_url,
            "SLASHOPS_BACKUP_BUCKET": self.bucket,
            "SLASHOPS_LEDGER_TABLE": self.ledger_table,
            "SLASHOPS_DEPLOY_TABLE": self.deploy_table,
            "SLASHOPS_REPLAY_TABLE": self.replay_table,
        }


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
        deploy_queue_url=outputs["DeployQueueUrl"],
        deploy_queue_arn=outputs["DeployQueueArn"],
        backup_queue_url=outputs["BackupQueueUrl"],
        backup_queue_arn=outputs["BackupQueueArn"],
        notifier_queue_url=outputs["NotifierQueueUrl"],
        notifier_queue_arn=outputs["NotifierQueueArn"],
        bucket=LOCAL_BUCKET,
        ledger_table=LEDGER_TABLE,
        deploy_table=DEPLOY_TABLE,
    )


def create_tables(client: DynamoDBClient) -> None:
    """Each service's table through its own helper (the same key schema CloudFormation declares)."""
    create_ledger_table(client, LEDGER_TABLE)
    create_deploy_table(client, DEPLOY_TABLE)
    create_replay_table(client, REPLAY_TABLE)
