"""The whole configuration file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.config.access import AccessRule
from shared.config.backup import BackupConfig
from shared.config.deploy import DeployConfig


class SlackConfig(BaseModel):
    """`slack: {groups_ttl: 300}`: how long Slack's user-group answers are kept (seconds; 0 asks every time)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    groups_ttl: int = Field(default=300, ge=0, le=86_400)


class SlashopsConfig(BaseModel):
    """Either the seed format (one rule or a list of rules) or this mapping with named sections."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    access: tuple[AccessRule, ...] = ()
    deploy: DeployConfig = DeployConfig()
    backup: BackupConfig = BackupConfig()
    slack: SlackConfig = SlackConfig()
