"""The whole configuration file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.config.access import AccessRule
from shared.config.backup import BackupConfig
from shared.config.deploy import DeployConfig


class SlackConfig(BaseModel):
    """`slack: {groups_ttl: 300, names_ttl: 300, team_id: T0123ABCD}`.

    `groups_ttl` / `names_ttl`: how long Slack's answers about user groups / about what the names in the rules
    stand for are kept (seconds; 0 asks every time). `team_id` pins the workspace: a request from any other team is
    refused (unset: the signing secret alone says the request is the app's).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    groups_ttl: int = Field(default=300, ge=0, le=86_400)
    names_ttl: int = Field(default=300, ge=0, le=86_400)
    team_id: str | None = Field(default=None, pattern=r"^[TE][A-Z0-9]{2,40}$")

    def admits_team(self, team_id: str) -> bool:
        """Whether a request from workspace `team_id` may be served (always, when no workspace is pinned)."""
        return self.team_id is None or team_id == self.team_id


class SlashopsConfig(BaseModel):
    """Either the seed format (one rule or a list of rules) or this mapping with named sections."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    access: tuple[AccessRule, ...] = ()
    deploy: DeployConfig = DeployConfig()
    backup: BackupConfig = BackupConfig()
    slack: SlackConfig = SlackConfig()
