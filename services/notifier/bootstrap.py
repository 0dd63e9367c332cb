"""Wires the notifier's real adapters once, on the first message (import stays free of I/O)."""

from __future__ import annotations

import logging
from functools import cache

from services.notifier.service import NotifierDeps
from services.notifier.settings import NotifierSettings
from services.notifier.slack_adapter import SlackSdkAdapter
from shared.aws.secrets import read_secret
from shared.errors import ConfigurationError
from shared.ledger.dynamodb import DynamoDbLedger

logger = logging.getLogger(__name__)


@cache
def notifier_deps() -> NotifierDeps:
    settings = NotifierSettings.from_env()
    return NotifierDeps(
        ledger=DynamoDbLedger(settings.ledger_table),
        slack=SlackSdkAdapter(lambda: bot_token(settings), api_url=settings.slack_api_url),
        max_receive_count=settings.max_receive_count,
    )


def bot_token(settings: NotifierSettings) -> str | None:
    """`SLACK_BOT_TOKEN` locally; Secrets Manager (`SLACK_BOT_TOKEN_SECRET_ID`, cached by Powertools) in AWS."""
    if settings.bot_token:
        return settings.bot_token
    if not settings.bot_token_secret_id:
        return None
    try:
        return read_secret(settings.bot_token_secret_id, what="bot token secret")
    except ConfigurationError as error:
        logger.error("%s", error.message)
        return None
