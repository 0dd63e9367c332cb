"""The configuration port every unit reads its access rules and settings through (declared once, here)."""

from __future__ import annotations

from typing import Protocol

from shared.config.model import SlashopsConfig


class ConfigPort(Protocol):
    """The current configuration, re-read on its TTL; raises `ConfigurationError` while it is unusable.

    Every unit fails closed on that error: no command runs on a configuration that could not be read or validated.
    The real adapter is `shared.config.source.CachedConfig` (built by `cached_config`); tests pass any object with
    `get()`.
    """

    def get(self) -> SlashopsConfig: ...
