"""The worker's settings, from the environment (the ECS task definition, or `make run`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.backup.connections import Database, MisconfiguredDatabase, databases_from_env


@dataclass(frozen=True)
class BackupSettings:
    queue_url: str
    bucket: str
    event_bus: str
    config_file: str | None
    config_parameter: str | None
    databases: dict[str, Database | MisconfiguredDatabase]
    config_ttl_seconds: float
    part_size: int
    visibility_timeout: int
    heartbeat_seconds: float
    progress_every_seconds: float
    poll_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BackupSettings:
        env = os.environ if env is None else env
        return cls(
            queue_url=env.get("SLASHOPS_BACKUP_QUEUE_URL", ""),
            bucket=env.get("SLASHOPS_BACKUP_BUCKET", ""),
            event_bus=env.get("SLASHOPS_EVENT_BUS", "slashops"),
            config_file=env.get("SLASHOPS_CONFIG") or None,
            config_parameter=env.get("SLASHOPS_CONFIG_PARAMETER") or None,
            databases=databases_from_env(env),
            config_ttl_seconds=float(env.get("SLASHOPS_CONFIG_TTL", "60")),
            part_size=int(env.get("SLASHOPS_BACKUP_PART_MIB", "8")) * 1024 * 1024,
            visibility_timeout=int(env.get("SLASHOPS_BACKUP_VISIBILITY_SECONDS", "120")),
            heartbeat_seconds=float(env.get("SLASHOPS_BACKUP_HEARTBEAT_SECONDS", "30")),
            progress_every_seconds=float(env.get("SLASHOPS_BACKUP_PROGRESS_SECONDS", "10")),
            # short enough that SIGTERM is honoured well inside ECS' 30 s stop timeout
            poll_seconds=int(env.get("SLASHOPS_BACKUP_POLL_SECONDS", "10")),
        )
