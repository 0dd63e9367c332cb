"""Where the configuration comes from, cached for a short TTL so edits apply without a redeploy."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.config.loader import parse_config
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError
from shared.slack.mrkdwn import text

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

logger = logging.getLogger(__name__)


class ConfigText(Protocol):
    """Raw configuration text and a name for it in messages; raises `ConfigurationError` if unreadable."""

    origin: str

    def read(self) -> str: ...


class FileConfigText:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.origin = str(path)

    def read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigurationError(text(f"{self.origin}: cannot read ({error})")) from error


class SsmConfigText:
    """An SSM parameter (String or SecureString); the client is built on first use."""

    def __init__(self, name: str, *, client: SSMClient | None = None) -> None:
        self.name = name
        self.origin = f"ssm:{name}"
        self._client = client

    def read(self) -> str:
        if self._client is None:
            import boto3

            self._client = boto3.client("ssm")
        try:
            response = self._client.get_parameter(Name=self.name, WithDecryption=True)
        except Exception as error:  # any botocore failure means the same thing here: unreadable
            raise ConfigurationError(text(f"{self.origin}: cannot read ({type(error).__name__})")) from error
        return response["Parameter"].get("Value", "")


class MissingConfigText:
    """No configuration was named: every command except `help` is refused."""

    origin = "configuration"

    def read(self) -> str:
        raise ConfigurationError("no configuration is set (SLASHOPS_CONFIG or SLASHOPS_CONFIG_PARAMETER)")


class CachedConfig:
    """Parses the text at most once per `ttl_seconds`; a bad read or parse is cached too, and fails closed."""

    def __init__(
        self,
        text: ConfigText,
        *,
        known_commands: Iterable[str],
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._text = text
        self._known = tuple(known_commands)
        self._ttl = ttl_seconds
        self._clock = clock
        self._loaded_at: float | None = None
        self._value: SlashopsConfig | ConfigurationError | None = None

    def get(self) -> SlashopsConfig:
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._ttl:
            self._value = self._load()
            self._loaded_at = now
        if isinstance(self._value, ConfigurationError):
            raise self._value
        assert self._value is not None
        return self._value

    def _load(self) -> SlashopsConfig | ConfigurationError:
        try:
            return parse_config(self._text.read(), origin=self._text.origin, known_commands=self._known)
        except ConfigurationError as error:
            logger.error("CONFIGURATION ERROR, every command is refused: %s", error.message)
            return error


def config_text(config_file: str | None, config_parameter: str | None) -> ConfigText:
    """The file (local) wins over the SSM parameter (AWS); neither means fail closed."""
    if config_file:
        return FileConfigText(config_file)
    if config_parameter:
        return SsmConfigText(config_parameter)
    return MissingConfigText()


def cached_config(config_file: str | None, config_parameter: str | None, *, ttl_seconds: float) -> CachedConfig:
    """The configuration every service reads, validated against the commands slashops declares."""
    from shared.commands.catalog import CATALOG

    return CachedConfig(
        config_text(config_file, config_parameter), known_commands=CATALOG.names(), ttl_seconds=ttl_seconds
    )
