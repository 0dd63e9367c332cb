"""Wires the worker's real adapters from its settings."""

from __future__ import annotations

import logging
import os
import socket

from services.backup.connections import Database
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
    if not settings.queue_url or not settings.bucket:
        raise ConfigurationError("SLASHOPS_BACKUP_QUEUE_URL and SLASHOPS_BACKUP_BUCKET must be set")
    return WorkerDeps(
        queue=SqsJobQueue(settings.queue_url),
        store=S3BackupStore(settings.bucket),
        publisher=EventBridgePublisher(settings.event_bus, SOURCE),
        databases=configured_databases(settings),
        settings=JobSettings(
            part_size=settings.part_size,
            progress_every_seconds=settings.progress_every_seconds,
            tool_env={key: os.environ[key] for key in TOOL_ENV_KEYS if key in os.environ},
        ),
        worker_id=socket.gethostname(),
        visibility_timeout=settings.visibility_timeout,
        heartbeat_seconds=settings.heartbeat_seconds,
    )


def configured_databases(settings: BackupSettings) -> dict[str, Database]:
    """Every `SLASHOPS_DB_<NAME>`; if the config's `backup.databases` lists names, only those."""
    if not (settings.config_file or settings.config_parameter):
        return settings.databases
    config = cached_config(settings.config_file, settings.config_parameter, ttl_seconds=60).get()
    wanted = config.backup.databases
    if not wanted:
        return settings.databases
    missing = [name for name in wanted if name not in settings.databases]
    if missing:
        logger.error("databases in the configuration without SLASHOPS_DB_<NAME>: %s", ", ".join(missing))
    return {name: db for name, db in settings.databases.items() if name in wanted}
