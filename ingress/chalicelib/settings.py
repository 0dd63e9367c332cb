"""Ingress settings from the environment, read when the first request arrives (not at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class IngressSettings:
    event_bus: str
    config_file: str | None
    config_parameter: str | None
    config_ttl_seconds: float
    signing_secret: str | None
    signing_secret_id: str | None
    ledger_table: str = "slashops-ledger"
    replay_table: str = "slashops-replays"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngressSettings:
        env = os.environ if env is None else env
        return cls(
            event_bus=env.get("SLASHOPS_EVENT_BUS", "slashops"),
            config_file=env.get("SLASHOPS_CONFIG") or None,
            config_parameter=env.get("SLASHOPS_CONFIG_PARAMETER") or None,
            config_ttl_seconds=float(env.get("SLASHOPS_CONFIG_TTL", "60")),
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            signing_secret_id=env.get("SLACK_SIGNING_SECRET_ID") or None,
            ledger_table=env.get("SLASHOPS_LEDGER_TABLE") or "slashops-ledger",
            replay_table=env.get("SLASHOPS_REPLAY_TABLE") or "slashops-replays",
        )
