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
from shared.slack.bot import SlackBot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifierSettings:
    """From the environment: `SLASHOPS_LEDGER_TABLE`, `SLACK_API_URL`, `SLACK_BOT_TOKEN` (local) or
    `SLACK_BOT_TOKEN_SECRET_ID` (Secrets Manager), `SLASHOPS_NOTIFIER_MAX_RECEIVE_COUNT` (the queue's)."""

    ledger_table: str
    slack: SlackBot
    max_receive_count: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifierSettings:
        from shared.ledger.dynamodb import DEFAULT_TABLE

        env = os.environ if env is None else env
        return cls(
            ledger_table=env.get("SLASHOPS_LEDGER_TABLE") or DEFAULT_TABLE,
            slack=SlackBot.from_env(env),
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
        slack=SlackSdkAdapter(settings.slack.read_token, api_url=settings.slack.api_url),
        max_receive_count=settings.max_receive_count,
    )
