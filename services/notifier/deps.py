"""The notifier's composition root: its settings, its dependencies, and the one place real adapters are built.

Nothing happens at import: `notifier_deps()` reads the environment and wires the adapters on the first message
(the Lambda cold start stays free of I/O), once per process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from services.notifier.delivery import ResponseUrlLimits
from services.notifier.ports import SlackPort
from shared.ledger.port import Ledger

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifierSettings:
    """From the environment: `SLASHOPS_LEDGER_TABLE`, `SLACK_API_URL`, `SLACK_BOT_TOKEN` (local) or
    `SLACK_BOT_TOKEN_SECRET_ID` (Secrets Manager), `SLASHOPS_NOTIFIER_MAX_RECEIVE_COUNT` (the queue's)."""

    ledger_table: str
    slack_api_url: str | None
    bot_token: str | None
    bot_token_secret_id: str | None
    max_receive_count: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifierSettings:
        from shared.ledger.dynamodb import DEFAULT_TABLE

        env = os.environ if env is None else env
        return cls(
            ledger_table=env.get("SLASHOPS_LEDGER_TABLE") or DEFAULT_TABLE,
            slack_api_url=env.get("SLACK_API_URL") or None,
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            bot_token_secret_id=env.get("SLACK_BOT_TOKEN_SECRET_ID") or None,
            max_receive_count=int(env.get("SLASHOPS_NOTIFIER_MAX_RECEIVE_COUNT") or 5),
        )


@dataclass
class NotifierDeps:
    """What the use cases need; tests build it from fakes (tests/support/fakes/)."""

    ledger: Ledger
    slack: SlackPort
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    limits: ResponseUrlLimits = field(default_factory=ResponseUrlLimits)
    max_receive_count: int = 5
    """The queue's redrive `maxReceiveCount`: the attempt that reaches it is logged as lost if it fails."""


@cache
def notifier_deps() -> NotifierDeps:
    """The real adapters: the ledger on DynamoDB, Slack through slack-sdk (clients built on first use)."""
    from services.notifier.adapters.slack import SlackSdkAdapter
    from shared.ledger.dynamodb import DynamoDbLedger

    settings = NotifierSettings.from_env()
    return NotifierDeps(
        ledger=DynamoDbLedger(settings.ledger_table),
        slack=SlackSdkAdapter(lambda: bot_token(settings), api_url=settings.slack_api_url),
        max_receive_count=settings.max_receive_count,
    )


def bot_token(settings: NotifierSettings) -> str | None:
    """`SLACK_BOT_TOKEN` locally; Secrets Manager (`SLACK_BOT_TOKEN_SECRET_ID`, cached by Powertools) in AWS."""
    from shared.aws.secrets import read_secret
    from shared.errors import ConfigurationError

    if settings.bot_token:
        return settings.bot_token
    if not settings.bot_token_secret_id:
        return None
    try:
        return read_secret(settings.bot_token_secret_id, what="bot token secret")
    except ConfigurationError as error:
        logger.error("%s", error.message)
        return None
