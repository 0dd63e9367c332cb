"""The `backup` section of the configuration: which databases can be backed up and restored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BackupConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    databases: tuple[str, ...] = ()
