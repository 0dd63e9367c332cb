"""Wires the worker's real adapters from its settings."""

from __future__ import annotations

import logging
import os
import socket

from services.backup.connections import MisconfiguredDatabase
from services.backup.jobs import SOURCE, JobSettings
from services.backup.s3_store import S3BackupStore
from services.backup.settings import BackupSettings
from services.backup.sqs_queue import SqsJobQueue
from services.backup.worker import WorkerDeps
from shared.aws.eventbridge import EventBridgePublisher
from shared.config.source import cached_config
from shared.errors import ConfigurationError

logger = logging.getLogger(__name__)
TOOL_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "HOME", "TZ")


def worker_deps(settings: BackupSettings) -> WorkerDeps:
    """Raises only when the worker could not even receive its commands (no queue, no bucket).

    A broken configuration or database URL does not stop it: each command is answered with the problem.
    """
    if not settings.queue_url or not settings.bucket:
        raise ConfigurationError("SLASHOPS_BACKUP_QUEUE_URL and SLASHOPS_BACKUP_BUCKET must be set")
    return WorkerDeps(
        queue=SqsJobQueue(settings.queue_url),
        store=S3BackupStore(settings.bucket),
        publisher=EventBridgePublisher(settings.event_bus, SOURCE),
        databases=settings.databases,
        settings=JobSettings(
            part_size=settings.part_size,
            progress_every_seconds=settings.progress_every_seconds,
            tool_env={key: os.environ[key] for key in TOOL_ENV_KEYS if key in os.environ},
        ),
        config=cached_config(settings.config_file, settings.config_parameter, ttl_seconds=settings.config_ttl_seconds),
        worker_id=socket.gethostname(),
        visibility_timeout=settings.visibility_timeout,
        heartbeat_seconds=settings.heartbeat_seconds,
    )


def log_startup_problems(deps: WorkerDeps) -> None:
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
