"""The composition root: the worker's settings (from the environment) and the one place real adapters are built.

Nothing here runs at import: `BackupSettings.from_env()` and `build_deps()` are called by `handler.main()`, and
the S3/SQS clients are built on their first call.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.backup.adapters.engines import ENGINES
from services.backup.adapters.s3_store import S3BackupStore
from services.backup.adapters.sqs_queue import SqsJobQueue
from services.backup.connections import Database, MisconfiguredDatabase, databases_from_env
from services.backup.job import JobSettings, UseCase
from services.backup.ports import BackupStore, DumpEngine, JobQueue
from shared.aws.eventbridge import EventBridgePublisher
from shared.config.location import ConfigLocation
from shared.config.port import ConfigPort
from shared.config.source import cached_config, groups_ttl, names_ttl
from shared.errors import ConfigurationError
from shared.events.publisher import EventPublisher
from shared.events.reporter import Reporter
from shared.slack.bot import SlackBot
from shared.slack.groups import GroupDirectory
from shared.slack.names import NameDirectory
from shared.slack.sdk_groups import group_directory, name_directory

logger = logging.getLogger(__name__)
SOURCE = "slashops.backup"
TOOL_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "HOME", "TZ")


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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BackupSettings:
        env = os.environ if env is None else env
        return cls(
            queue_url=env.get("SLASHOPS_BACKUP_QUEUE_URL", ""),
            bucket=env.get("SLASHOPS_BACKUP_BUCKET", ""),
            event_bus=env.get("SLASHOPS_EVENT_BUS", "slashops"),
            config=ConfigLocation.from_env(env),
            databases=databases_from_env(env, _read_database_secret),
            part_size=int(env.get("SLASHOPS_BACKUP_PART_MIB", "8")) * 1024 * 1024,
            visibility_timeout=int(env.get("SLASHOPS_BACKUP_VISIBILITY_SECONDS", "120")),
            heartbeat_seconds=float(env.get("SLASHOPS_BACKUP_HEARTBEAT_SECONDS", "30")),
            progress_every_seconds=float(env.get("SLASHOPS_BACKUP_PROGRESS_SECONDS", "10")),
            # short enough that SIGTERM is honoured well inside ECS' 30 s stop timeout
            poll_seconds=int(env.get("SLASHOPS_BACKUP_POLL_SECONDS", "10")),
            slack=SlackBot.from_env(env),
        )


def _read_database_secret(secret_id: str) -> str:
    from shared.aws.secrets import read_secret

    return read_secret(secret_id, what="database secret")


def _registered_use_cases() -> Mapping[str, UseCase[Any]]:
    """Imported on first use: the registry imports the use cases, and the consumer imports this module."""
    from services.backup.consumer import USE_CASES

    return USE_CASES


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
    use_cases: Mapping[str, UseCase[Any]] = field(default_factory=_registered_use_cases)
    """The consumer's registry, command name -> use case: `consumer.USE_CASES` unless a test passes its own."""

    @property
    def reporter(self) -> Reporter:
        return Reporter(self.publisher, SOURCE)


def build_deps(settings: BackupSettings) -> BackupDeps:
    """Raises only when the worker could not even receive its commands (no queue, no bucket).

    A broken configuration or database URL does not stop it: each command is answered with the problem.
    """
    if not settings.queue_url or not settings.bucket:
        raise ConfigurationError("SLASHOPS_BACKUP_QUEUE_URL and SLASHOPS_BACKUP_BUCKET must be set")
    config = cached_config(settings.config)
    return BackupDeps(
        queue=SqsJobQueue(settings.queue_url),
        store=S3BackupStore(settings.bucket),
        publisher=EventBridgePublisher(settings.event_bus, SOURCE),
        databases=settings.databases,
        settings=JobSettings(
            part_size=settings.part_size,
            progress_every_seconds=settings.progress_every_seconds,
            tool_env={key: os.environ[key] for key in TOOL_ENV_KEYS if key in os.environ},
        ),
        config=config,
        groups=group_directory(
            settings.slack,
            ttl=lambda: groups_ttl(config),
            timeout=5,
        ),
        names=name_directory(settings.slack, ttl=lambda: names_ttl(config), timeout=5),
        worker_id=socket.gethostname(),
        visibility_timeout=settings.visibility_timeout,
        heartbeat_seconds=settings.heartbeat_seconds,
    )


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
        wanted = deps.config.get().backup.databases
    except ConfigurationError:
        return  # the configuration source has logged why; every command is answered with it until fixed
    missing = [name for name in wanted if name not in deps.databases]
    if missing:
        logger.error("databases in the configuration without SLASHOPS_DB_<NAME>: %s", ", ".join(missing))
