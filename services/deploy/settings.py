"""Deploy settings from the environment, read on the first message (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.deploy.service import DeploySettings


@dataclass(frozen=True)
class DeployEnv:
    event_bus: str
    table: str
    queue_url: str
    config_file: str | None
    config_parameter: str | None
    config_ttl_seconds: float
    jenkins_url: str | None
    jenkins_user: str | None
    jenkins_token: str | None
    jenkins_secret_id: str | None
    jenkins_timeout: float
    service: DeploySettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeployEnv:
        env = os.environ if env is None else env
        defaults = DeploySettings()
        return cls(
            event_bus=env.get("SLASHOPS_EVENT_BUS", "slashops"),
            table=env.get("SLASHOPS_DEPLOY_TABLE", "slashops-deploy"),
            queue_url=env.get("SLASHOPS_DEPLOY_QUEUE_URL", ""),
            config_file=env.get("SLASHOPS_CONFIG") or None,
            config_parameter=env.get("SLASHOPS_CONFIG_PARAMETER") or None,
            config_ttl_seconds=float(env.get("SLASHOPS_CONFIG_TTL", "60")),
            jenkins_url=env.get("JENKINS_URL") or None,
            jenkins_user=env.get("JENKINS_USER") or None,
            jenkins_token=env.get("JENKINS_API_TOKEN") or None,
            jenkins_secret_id=env.get("JENKINS_SECRET_ID") or None,
            jenkins_timeout=float(env.get("SLASHOPS_JENKINS_TIMEOUT", "10")),
            service=DeploySettings(
                lease_seconds=int(env.get("SLASHOPS_DEPLOY_LEASE_SECONDS", defaults.lease_seconds)),
                max_trigger_attempts=int(env.get("SLASHOPS_DEPLOY_MAX_ATTEMPTS", defaults.max_trigger_attempts)),
                first_follow_delay=int(env.get("SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY", defaults.first_follow_delay)),
                follow_delay=int(env.get("SLASHOPS_DEPLOY_FOLLOW_DELAY", defaults.follow_delay)),
            ),
        )
