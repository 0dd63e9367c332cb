"""The notifier's settings and the dependencies its use cases receive (`bootstrap.py` builds the real ones)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.notifier.delivery import ResponseUrlLimits
from services.notifier.ports import SlackPort
from shared.aws.tables import LEDGER
from shared.ledger.port import Ledger
from shared.metrics import EmfMetrics, MetricsPort
from shared.settings import int_setting
from shared.slack.bot import SlackBot
from shared.slack.home import HomePublisher

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
        env = os.environ if env is None else env
        return cls(
            ledger_table=LEDGER.name_in(env),
            slack=SlackBot.from_env(env),
            max_receive_count=int_setting(env, "SLASHOPS_NOTIFIER_MAX_RECEIVE_COUNT", 5),
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
    home: HomePublisher | None = None
    """Republishes a user's Home tab when one of their commands or approvals changes (`home`); None: not refreshed."""
    home_refreshed: dict[str, datetime] = field(default_factory=dict)
    """When this process last republished each user's Home after a command finished (`home.FINISHED_EVERY`)."""
    metrics: MetricsPort = field(default_factory=EmfMetrics)
    """Counts each event the ledger recorded for the first time (`shared.metrics`): EMF lines on stdout."""
