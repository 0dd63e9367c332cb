"""Wires the ingress' real adapters, once, on first use (never at import: that is the cold start)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from chalicelib.service import ConfigProvider, IngressDeps
from chalicelib.settings import IngressSettings
from shared.aws.eventbridge import EventBridgePublisher
from shared.aws.replay_guard import DynamoDbReplayGuard
from shared.aws.secrets import read_secret
from shared.config.source import CachedConfig, SsmConfigText, cached_config
from shared.errors import ConfigurationError
from shared.events.models import INGRESS_SOURCE
from shared.ledger.dynamodb import DynamoDbLedger

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


@cache
def settings() -> IngressSettings:
    return IngressSettings.from_env()


@cache
def ingress_deps() -> IngressDeps:
    current = settings()
    return IngressDeps(
        config=config_provider(current),
        # Short timeouts: the request's deadline (chalicelib.budget) bounds every attempt and wait on top of them.
        publisher=EventBridgePublisher(current.event_bus, INGRESS_SOURCE, connect_timeout=0.5, read_timeout=1.0),
        # Tight timeouts and a bounded read: `status`/`history` must answer within Slack's 3 seconds.
        ledger=DynamoDbLedger(current.ledger_table, read_timeout=1.0, attempts=1, max_read=300),
        replays=DynamoDbReplayGuard(current.replay_table),
    )


def config_provider(current: IngressSettings) -> ConfigProvider:
    """The SSM read gets short timeouts: boto3's defaults (60 s, 5 tries) would spend the whole answer budget."""
    if current.config_parameter and not current.config_file:
        text = SsmConfigText(current.config_parameter, client=_ssm_client())
        return CachedConfig(text, known_commands=_command_names(), ttl_seconds=current.config_ttl_seconds)
    return cached_config(current.config_file, current.config_parameter, ttl_seconds=current.config_ttl_seconds)


def _ssm_client() -> SSMClient:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=0.5, read_timeout=1.0, retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.client("ssm", config=config)


def _command_names() -> tuple[str, ...]:
    from shared.commands.catalog import CATALOG

    return tuple(CATALOG.names())


def signing_secret() -> str:
    return signing_secret_from(settings())


def signing_secret_from(current: IngressSettings) -> str:
    """From `SLACK_SIGNING_SECRET` locally; from Secrets Manager (cached by Powertools) in AWS."""
    if current.signing_secret:
        return current.signing_secret
    if current.signing_secret_id:
        return read_secret(current.signing_secret_id, what="signing secret")
    raise ConfigurationError("no Slack signing secret (SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_ID)")
