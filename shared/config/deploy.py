"""The `deploy` section of the configuration: Jenkins jobs per client and environment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DeployConfig(BaseModel):
    """Which clients can be deployed, and the Jenkins job and parameters for each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job: str = "deploy-{client}"
    clients: tuple[str, ...] = ()
