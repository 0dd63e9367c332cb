"""Wires the ingress' real adapters, once, on first use (never at import: that is the cold start)."""

from __future__ import annotations

from functools import cache

from chalicelib.service import IngressDeps
from chalicelib.settings import IngressSettings
from shared.aws.clients import ClientLimits
from shared.aws.eventbridge import EventBridgePublisher
from shared.aws.replay_guard import DynamoDbReplayGuard
from shared.aws.secrets import read_secret
from shared.config.port import ConfigPort
from shared.config.source import cached_config
from shared.errors import ConfigurationError
from shared.events.models import INGRESS_SOURCE
from shared.ledger.dynamodb import DynamoDbLedger

SSM_LIMITS = ClientLimits(connect_timeout=0.5, read_timeout=1.0, total_max_attempts=1)
"""boto3's defaults for the SSM read (60 s, several tries) would spend the whole answer budget."""


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


def config_provider(current: IngressSettings) -> ConfigPort:
    return cached_config(
        current.config_file,
        current.config_parameter,
        ttl_seconds=current.config_ttl_seconds,
        ssm_limits=SSM_LIMITS,
    )


def signing_secret() -> str:
    return signing_secret_from(settings())


def signing_secret_from(current: IngressSettings) -> str:
    """From `SLACK_SIGNING_SECRET` locally; from Secrets Manager (cached by Powertools) in AWS."""
    if current.signing_secret:
        return current.signing_secret
    if current.signing_secret_id:
        return read_secret(current.signing_secret_id, what="signing secret")
    raise ConfigurationError("no Slack signing secret (SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_ID)")
