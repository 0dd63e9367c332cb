"""The ingress' composition root: its settings, its dependencies, and the real adapters built on first use.

Nothing here runs at import (that is the Lambda cold start); `ingress_deps()` imports and builds the adapters
once per instance, when the first request arrives.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.responding import Responder, WebhookResponder
from shared.approvals import ApprovalStore
from shared.aws.clients import ClientLimits
from shared.aws.tables import APPROVALS, LEDGER, LOCKS, REPLAYS
from shared.backups import BackupCatalog
from shared.commands.catalog import CATALOG, Catalog
from shared.config.location import ConfigLocation
from shared.config.port import ConfigPort
from shared.events.publisher import EventPublisher
from shared.events.requested import new_command_id
from shared.locks.port import LockStore
from shared.replay import ReplayGuard
from shared.settings import BACKUP_BUCKET, event_bus, optional_setting
from shared.slack.bot import SlackBot
from shared.slack.groups import GroupDirectory
from shared.slack.names import NameDirectory

if TYPE_CHECKING:
    from shared.ledger.port import LedgerReader  # only `status` and `history` read the ledger: imported by them
    from shared.slack.home import HomePublisher  # only the Home (`chalicelib.home`) uses it
    from shared.slack.views import ViewsPort  # only the forms (`chalicelib.forms`) use it

SSM_LIMITS = ClientLimits(connect_timeout=0.5, read_timeout=1.0, total_max_attempts=1)
"""boto3's defaults for the SSM read (60 s, several tries) would spend the whole answer budget."""


@dataclass(frozen=True)
class IngressSettings:
    """From the environment, read when the first request arrives (not at import)."""

    event_bus: str
    config: ConfigLocation
    signing_secret: str | None
    signing_secret_id: str | None
    ledger_table: str = LEDGER.name
    replay_table: str = REPLAYS.name
    lock_table: str = LOCKS.name
    approval_table: str = APPROVALS.name
    slack: SlackBot = SlackBot()
    """The bot, to resolve the Slack user groups access rules name."""
    backup_bucket: str | None = None
    """The backup worker's bucket, to check a restore's backup exists before asking for confirmation or approval."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngressSettings:
        env = os.environ if env is None else env
        return cls(
            event_bus=event_bus(env),
            config=ConfigLocation.from_env(env),
            signing_secret=optional_setting(env, "SLACK_SIGNING_SECRET"),
            signing_secret_id=optional_setting(env, "SLACK_SIGNING_SECRET_ID"),
            ledger_table=LEDGER.name_in(env),
            replay_table=REPLAYS.name_in(env),
            lock_table=LOCKS.name_in(env),
            approval_table=APPROVALS.name_in(env),
            slack=SlackBot.from_env(env),
            backup_bucket=optional_setting(env, BACKUP_BUCKET),
        )


@dataclass
class IngressDeps:
    """Everything a use case may call; tests build it with fakes (tests/support/fakes/ingress.py)."""

    config: ConfigPort
    publisher: EventPublisher
    replays: ReplayGuard
    """Remembers published requests' signatures; the DynamoDB one, shared by every instance."""
    ledger: LedgerReader | None = None
    """Read by `status` and `history`; None answers them with a configuration error."""
    groups: GroupDirectory | None = None
    """Slack's user groups, for rules that name groups; None: those rules fail closed (Slack cannot be asked)."""
    names: NameDirectory | None = None
    """What user and channel names in the rules stand for; None: rules naming names fail closed."""
    locks: LockStore | None = None
    """Deploy locks: `lock`/`unlock`/`locks`, and the check before a deploy; None refuses all of them (fail closed)."""
    approvals: ApprovalStore | None = None
    """Commands held for approval (docs/admins.md "Approvals"); None refuses every command a rule holds."""
    backups: BackupCatalog | None = None
    """Whether a backup exists, asked before a restore is prompted or held; None: the backup worker checks alone."""
    views: ViewsPort | None = None
    """Slack's modals and the bot's private answers (`chalicelib.forms`); None: `/ops deploy` and `/ops restore`
    without arguments answer as typed text does (no form)."""
    home: HomePublisher | None = None
    """Publishes a user's Home tab (`chalicelib.home`, on `app_home_opened` and after a click there); None: the
    events endpoint answers Slack and publishes nothing."""
    responder: Responder = field(default_factory=WebhookResponder)
    """Posts a click's answer to its `response_url` (Slack ignores the HTTP body of a click's answer)."""
    catalog: Catalog = CATALOG
    new_id: Callable[[], str] = new_command_id
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
