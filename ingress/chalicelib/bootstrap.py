"""Wires the ingress' real adapters, once, on first use (never at import: that is the cold start)."""

from __future__ import annotations

import os
from functools import cache

from chalicelib.service import IngressDeps
from chalicelib.settings import IngressSettings
from shared.aws.eventbridge import EventBridgePublisher
from shared.commands.catalog import CATALOG
from shared.config.source import CachedConfig, ConfigText, FileConfigText, MissingConfigText, SsmConfigText
from shared.errors import ConfigurationError
from shared.events.models import INGRESS_SOURCE
from shared.ledger.dynamodb import DEFAULT_TABLE as DEFAULT_LEDGER_TABLE
from shared.ledger.dynamodb import DynamoDbLedger

SECRET_CACHE_SECONDS = 300


@cache
def settings() -> IngressSettings:
    return IngressSettings.from_env()


@cache
def ingress_deps() -> IngressDeps:
    current = settings()
    return IngressDeps(
        config=CachedConfig(
            _config_text(current), known_commands=CATALOG.names(), ttl_seconds=current.config_ttl_seconds
        ),
        publisher=EventBridgePublisher(current.event_bus, INGRESS_SOURCE),
        ledger=_ledger(),
    )


def _ledger() -> DynamoDbLedger:
    """Tight timeouts and a bounded read: `status`/`history` must answer within Slack's 3 seconds."""
    table = os.environ.get("SLASHOPS_LEDGER_TABLE") or DEFAULT_LEDGER_TABLE
    return DynamoDbLedger(table, read_timeout=1.0, attempts=1, max_read=300)


def signing_secret() -> str:
    return signing_secret_from(settings())


def signing_secret_from(current: IngressSettings) -> str:
    """From `SLACK_SIGNING_SECRET` locally; from Secrets Manager (cached by Powertools) in AWS."""
    if current.signing_secret:
        return current.signing_secret
    if current.signing_secret_id:
        return _secret_from_secrets_manager(current.signing_secret_id)
    raise ConfigurationError("no Slack signing secret (SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_ID)")


def _secret_from_secrets_manager(secret_id: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(secret_id, max_age=SECRET_CACHE_SECONDS)
    except Exception as error:  # Powertools wraps botocore errors in several types
        raise ConfigurationError(f"cannot read the signing secret {secret_id!r} ({type(error).__name__})") from error
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"the signing secret {secret_id!r} is empty")
    return value


def _config_text(current: IngressSettings) -> ConfigText:
    if current.config_file:
        return FileConfigText(current.config_file)
    if current.config_parameter:
        return SsmConfigText(current.config_parameter)
    return MissingConfigText()
