"""Where the configuration is read from; a module of its own so that naming it costs no import (cold start)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import float_setting, optional_setting


@dataclass(frozen=True)
class ConfigLocation:
    """Where a unit reads the configuration: a file locally, an SSM parameter in AWS, re-read every `ttl_seconds`."""

    file: str | None = None
    parameter: str | None = None
    ttl_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ConfigLocation:
        """`SLASHOPS_CONFIG` (a file), `SLASHOPS_CONFIG_PARAMETER` (SSM), `SLASHOPS_CONFIG_TTL` (seconds, 60)."""
        return cls(
            file=optional_setting(env, "SLASHOPS_CONFIG"),
            parameter=optional_setting(env, "SLASHOPS_CONFIG_PARAMETER"),
            ttl_seconds=float_setting(env, "SLASHOPS_CONFIG_TTL", cls.ttl_seconds),
        )
