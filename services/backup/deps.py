"""The composition root: the worker's settings (from the environment) and the one place real adapters are built.

Nothing here runs at import: `BackupSettings.from_env()` and `build_deps()` are called by `handler.main()`, and
the S3/SQS clients are built on their first call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.backup.adapters.engines import ENGINES
from services.backup.connections import Database, MisconfiguredDatabase, databases_from_env
from services.backup.job import JobSettings
from services.backup.ports import BackupStore, DumpEngine, JobQueue
from shared.commands.catalog import CATALOG, Catalog
from shared.config.backup import DEFAULT_POLICY
from shared.config.location import ConfigLocation
from shared.config.port import ConfigPort
from shared.errors import ConfigurationError
from shared.events.publisher import EventPublisher
from shared.events.reporter import Reporter
from shared.metrics import EmfMetrics, MetricsPort
from shared.settings import BACKUP_BUCKET, event_bus, float_setting, int_setting, queue_url_variable, setting
from shared.slack.bot import SlackBot
from shared.slack.groups import GroupDirectory
from shared.slack.names import NameDirectory

logger = logging.getLogger(__name__)
SOURCE = "slashops.backup"
UNIT = "backup"
"""The `consumer` the catalog routes this worker's commands to."""
TOOL_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "HOME", "TZ")
KMS_KEY_ARN = "SLASHOPS_BACKUP_KMS_KEY_ARN"


@dataclass(frozen=True)
class BackupSettings:
    """From the environment (the ECS task definition, or `make run`); see the service README's table."""

    queue_url: str
    bucket: str
    event_bus: str
    config: ConfigLocation
    databases: dict[str, Database | MisconfiguredDatabase]
    part_size: int
    visibility_timeout: int
    heartbeat_seconds: float
    progress_every_seconds: float
    poll_seconds: int
    slack: SlackBot = SlackBot()
    """The bot, to resolve the Slack user groups access rules name."""
    kms_key_arn: str = ""
    """`SLASHOPS_BACKUP_KMS_KEY_ARN`: every object is written with SSE-KMS under this key ("": the bucket's default)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BackupSettings:
        env = os.environ if env is None else env
        return cls(
            queue_url=setting(env, queue_url_variable("backup")),
            bucket=setting(env, BACKUP_BUCKET),
            event_bus=event_bus(env),
            config=ConfigLocation.from_env(env),
            databases=databases_from_env(env, _read_database_secret),
            part_size=int_setting(env, "SLASHOPS_BACKUP_PART_MIB", 8) * 1024 * 1024,
            visibility_timeout=int_setting(env, "SLASHOPS_BACKUP_VISIBILITY_SECONDS", 120),
            heartbeat_seconds=float_setting(env, "SLASHOPS_BACKUP_HEARTBEAT_SECONDS", 30.0),
            progress_every_seconds=float_setting(env, "SLASHOPS_BACKUP_PROGRESS_SECONDS", 10.0),
            # short enough that SIGTERM is honoured well inside ECS' 30 s stop timeout
            poll_seconds=int_setting(env, "SLASHOPS_BACKUP_POLL_SECONDS", 10),
            slack=SlackBot.from_env(env),
            kms_key_arn=setting(env, KMS_KEY_ARN),
        )


def _read_database_secret(secret_id: str) -> str:
    from shared.aws.secrets import read_secret

    return read_secret(secret_id, what="database secret")


@dataclass
class BackupDeps:
    """What the consumer and the serving loop need; tests build it with the in-memory fakes."""

    queue: JobQueue
    store: BackupStore
    publisher: EventPublisher
    databases: Mapping[str, Database | MisconfiguredDatabase]
    settings: JobSettings
    #: the access rules and `backup.databases`, re-read on their TTL: every job is re-checked against them
    config: ConfigPort
    groups: GroupDirectory | None = None
    """Slack's user groups for the access re-checks; None: rules that need a group fail closed."""
    names: NameDirectory | None = None
    """What user and channel names in the rules stand for; None: rules naming names fail closed."""
    engines: Mapping[str, DumpEngine] = field(default_factory=lambda: dict(ENGINES))
    worker_id: str = "backup-worker"
    visibility_timeout: int = 120
    heartbeat_seconds: float = 30.0
    catalog: Catalog = CATALOG
    """Where the worker's commands and their use cases are declared (a test may pass its own)."""
    metrics: MetricsPort = field(default_factory=EmfMetrics)
    """The worker's `Errors` and `Retries` (`shared.metrics`): EMF lines on stdout, which the awslogs driver ships."""

    @property
    def reporter(self) -> Reporter:
        return Reporter(self.publisher, SOURCE)


def log_startup_problems(deps: BackupDeps) -> None:
    """What an admin must fix, said once at start (never a password); the worker runs on regardless."""
    for database in deps.databases.values():
        if isinstance(database, MisconfiguredDatabase):
            logger.error(
                "database %s is unavailable: %s is invalid (%s); its commands are answered with this, the "
                "other databases keep working",
                database.name,
                database.variable,
                database.problem,
            )
    try:
        backup = deps.config.get().backup
    except ConfigurationError:
        return  # the configuration source has logged why; every command is answered with it until fixed
    wanted = backup.databases
    missing = [name for name in wanted if name not in deps.databases]
    if missing:
        logger.error("databases in the configuration without SLASHOPS_DB_<NAME>: %s", ", ".join(missing))
    # with a `databases` list the configuration itself refuses a policy for another name; without one, warn here
    strays = [name for name in backup.retention if name != DEFAULT_POLICY and name not in deps.databases]
    if strays:
        logger.warning("backup.retention has a policy for databases this worker does not know: %s", ", ".join(strays))
