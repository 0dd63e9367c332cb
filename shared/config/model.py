"""The whole configuration file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.config.access import AccessRule
from shared.config.backup import BackupConfig
from shared.config.deploy import DeployConfig


class SlashopsConfig(BaseModel):
    """Either the seed format (one rule or a list of rules) or this mapping with named sections."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access: tuple[AccessRule, ...] = ()
    deploy: DeployConfig = DeployConfig()
    backup: BackupConfig = BackupConfig()
