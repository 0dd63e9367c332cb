"""The backup worker's composition root: the one place its real adapters are built, from `BackupSettings`.

Called by `handler.main()` at start; the wiring points one way: the worker's use cases are found through the
catalog (`BackupDeps.catalog`), never by importing a registry.
"""

from __future__ import annotations

import os
import socket

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.adapters.sqs_queue import SqsJobQueue
from services.backup.deps import SOURCE, TOOL_ENV_KEYS, BackupDeps, BackupSettings
from services.backup.job import JobSettings
from shared.aws.eventbridge import EventBridgePublisher
from shared.config.source import cached_config, groups_ttl, names_ttl
from shared.errors import ConfigurationError
from shared.slack.sdk_groups import group_directory, name_directory


def build_deps(settings: BackupSettings) -> BackupDeps:
    """Raises only when the worker could not even receive its commands (no queue, no bucket).

    A broken configuration or database URL does not stop it: each command is answered with the problem.
    """
    if not settings.queue_url or not settings.bucket:
        raise ConfigurationError("SLASHOPS_BACKUP_QUEUE_URL and SLASHOPS_BACKUP_BUCKET must be set")
    config = cached_config(settings.config)
    return BackupDeps(
        queue=SqsJobQueue(settings.queue_url),
        store=S3BackupStore(settings.bucket, kms_key_id=settings.kms_key_arn),
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
