"""Provision the local AWS for `make run`: the bus stack from `infra/bus.yaml`, the tables, the bucket.

Everything here is what CloudFormation creates in AWS; locally the bus stack comes from the very same
template, and the DynamoDB tables from the table registry (`shared.aws.tables`, which a test holds to the
templates; moto's server: DynamoDB does not run in LocalStack on these machines).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from shared.aws.tables import TABLES, Table, create_table
from shared.commands.routing import routes
from shared.config.source import FileConfigText
from shared.errors import ConfigurationError
from shared.settings import BACKUP_BUCKET, EVENT_BUS, queue_url_variable
from tools.cli.configuration import DEFAULT_PARAMETER, ConfigCliError, current, plain, write
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.state import LocalStores
from tools.release.routes import LISTENERS, logical_name
from tools.release.stacks import BUS_TEMPLATE, StackError, create_stack, ensure_archive

LOCAL_PREFIX = "slashops"
LOCAL_BUCKET = "slashops-backups-local"
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
    tables: tuple[Table, ...] = TABLES
    """Every table of the registry, under its default name."""

    def env(self) -> dict[str, str]:
        """The contract's environment names, as every local consumer reads them."""
        return {
            EVENT_BUS: self.bus_name,
            **{queue_url_variable(name): queue.url for name, queue in self.queues.items()},
            BACKUP_BUCKET: self.bucket,
            **{table.variable: table.name for table in self.tables},
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
    dynamodb = session.client("dynamodb", endpoint_url=dynamodb_endpoint)
    for table in TABLES:
        create_table(dynamodb, table)
    return LocalResources(
        bus_name=outputs["BusName"],
        queues={consumer: _queue(outputs, consumer) for consumer in local_consumers()},
        bucket=LOCAL_BUCKET,
    )


def _queue(outputs: dict[str, str], consumer: str) -> Queue:
    name = logical_name(consumer)
    try:
        return Queue(url=outputs[f"{name}QueueUrl"], arn=outputs[f"{name}QueueArn"])
    except KeyError as missing:
        raise StackError(
            f"infra/bus.yaml has no output {missing} for the {consumer!r} consumer: "
            "add its queue (`python -m tools.release.routes` says what is missing)"
        ) from None


def local_stores(aws_endpoint: str, dynamodb_endpoint: str, resources: LocalResources) -> LocalStores:
    """What holds `make run`'s state (tools/local/state.py): its tables, its bucket and its queues."""
    session = boto3.Session(
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    return LocalStores(
        dynamodb=session.client("dynamodb", endpoint_url=dynamodb_endpoint),
        s3=session.client("s3", endpoint_url=aws_endpoint),
        sqs=session.client("sqs", endpoint_url=aws_endpoint),
        tables=tuple(table.name for table in resources.tables),
        bucket=resources.bucket,
        queue_prefix=f"{LOCAL_PREFIX}-",
    )


LOCAL_CONFIG_TTL = 5.0
"""Seconds a unit under `make run` keeps the configuration before reading the parameter again (AWS: 60), so that
`slashops config push --local` shows its effect at once."""


class ConfigSeedError(Exception):
    """The configuration file could not be written to the local SSM parameter (unreadable, too large, SSM down)."""


@dataclass(frozen=True)
class SeededConfig:
    """The SSM parameter `make run` wrote from the configuration file: what every local unit reads, as in AWS."""

    file: str
    parameter: str
    version: int
    ttl_seconds: float

    def env(self) -> dict[str, str]:
        """What points a unit at the parameter (the file, `SLASHOPS_CONFIG`, would win over it: not set)."""
        return {"SLASHOPS_CONFIG_PARAMETER": self.parameter, "SLASHOPS_CONFIG_TTL": f"{self.ttl_seconds:g}"}

    def state(self) -> dict[str, str]:
        """For `.local/make-run.json`: `slashops config --local` names the parameter and the delay from it."""
        return {"config_parameter": self.parameter, "config_ttl": f"{self.ttl_seconds:g}", "config_file": self.file}


def seed_config(
    aws_endpoint: str,
    file: str,
    *,
    parameter: str = DEFAULT_PARAMETER,
    ttl_seconds: float = LOCAL_CONFIG_TTL,
    ssm: Any = None,
) -> SeededConfig:
    """Write `file` as a new version of the SSM `parameter` on the local AWS (`ssm` if injected), as `config push`
    would (the same writer: tier, size bound), unvalidated: an invalid file makes the units fail closed, as it would
    read directly. Raises `ConfigSeedError` when it cannot."""
    from botocore.exceptions import BotoCoreError, ClientError

    if ssm is None:
        session = boto3.Session(
            region_name="us-east-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        ssm = session.client("ssm", endpoint_url=aws_endpoint)
    try:
        text = FileConfigText(file).read()
        if not text.strip():
            raise ConfigSeedError(f"{file} is empty (an SSM parameter cannot be)")
        description = f"make run: seeded from {Path(file).name}"
        version = write(ssm, parameter, text, previous=current(ssm, parameter), description=description)
    except ConfigurationError as error:
        raise ConfigSeedError(plain(error.message)) from error
    except (ConfigCliError, BotoCoreError, ClientError) as error:
        raise ConfigSeedError(str(error)) from error
    return SeededConfig(file=file, parameter=parameter, version=version, ttl_seconds=ttl_seconds)
