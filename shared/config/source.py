"""Where the configuration comes from, cached for a short TTL so edits apply without a redeploy.

`CachedConfig` (the `ConfigPort` adapter) owns the one TTL, over the *outcome* of a read and parse: a good
configuration, or the `ConfigurationError` that makes every command fail closed. Powertools' parameters cache
cannot do that part (it caches values, never failures or parses, on the wall clock); it does the SSM read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.aws.clients import ClientLimits, LazyClient, aws_client
from shared.config.documents import MAX_BYTES
from shared.config.loader import fresh, parse_config
from shared.config.location import ConfigLocation
from shared.config.model import SlashopsConfig
from shared.config.port import ConfigPort
from shared.errors import ConfigurationError
from shared.slack.mrkdwn import text

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider
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
        """The file's text; never more than `MAX_BYTES` of it is read (a larger file is refused)."""
        try:
            with self.path.open("rb") as file:
                data = file.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise ConfigurationError(text(f"{self.origin}: larger than {MAX_BYTES} bytes (1 MiB): not read"))
            return data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigurationError(text(f"{self.origin}: cannot read ({error})")) from error


class SsmConfigText:
    """An SSM parameter (String or SecureString), read through Powertools' `SSMProvider`.

    The provider (and its boto3 client, `client` if injected, else one built with `limits`) is created on the
    first read, never at import. `max_age=0`: `CachedConfig` decides when to read again, so Powertools keeps no
    second copy that could outlive that TTL.
    """

    provider: LazyClient[SSMProvider] = LazyClient(lambda source: source.build_provider())

    def __init__(self, name: str, *, client: SSMClient | None = None, limits: ClientLimits | None = None) -> None:
        self.name = name
        self.origin = f"ssm:{name}"
        self.provider = None
        self._client = client
        self._limits = limits

    def build_provider(self) -> SSMProvider:
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        return SSMProvider(boto3_client=self._client or aws_client("ssm", self._limits))

    def read(self) -> str:
        try:
            value = self.provider.get(self.name, decrypt=True, max_age=0)
        except Exception as error:  # Powertools wraps every botocore failure; all mean the same here: unreadable
            cause = error.__cause__ or error.__context__ or error
            raise ConfigurationError(text(f"{self.origin}: cannot read ({type(cause).__name__})")) from error
        return value if isinstance(value, str) else ""


class MissingConfigText:
    """No configuration was named: every command except `help` is refused."""

    origin = "configuration"

    def read(self) -> str:
        raise ConfigurationError("no configuration is set (SLASHOPS_CONFIG or SLASHOPS_CONFIG_PARAMETER)")


class CachedConfig:
    """The `ConfigPort` adapter: reads and parses the text at most once per `ttl_seconds` (on `clock`).

    A bad read or parse is cached for the TTL too, logged at ERROR once per read, and raised on every `get()`
    meanwhile: the unit fails closed without hammering SSM while it is down or the text is broken. One thread reads
    at a time: while it does, the others answer from the outcome in hand (they wait only for the first one), and
    an unchanged text is not parsed again (`loader.ParsedConfigs`).
    """

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
        self._reading = threading.Lock()

    def get(self) -> SlashopsConfig:
        if self._stale() and self._reading.acquire(blocking=self._value is None):
            try:
                if self._stale():  # another thread may have read it while this one waited
                    now = self._clock()
                    self._value = self._load()
                    self._loaded_at = now
            finally:
                self._reading.release()
        value = self._value
        if isinstance(value, ConfigurationError):
            raise fresh(value)
        assert value is not None
        return value

    def _stale(self) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at >= self._ttl

    def _load(self) -> SlashopsConfig | ConfigurationError:
        try:
            return parse_config(self._text.read(), origin=self._text.origin, known_commands=self._known)
        except ConfigurationError as error:
            logger.error("CONFIGURATION ERROR, every command is refused: %s", error.message)
            return error


def config_text(location: ConfigLocation, *, ssm_limits: ClientLimits | None = None) -> ConfigText:
    """The file (local) wins over the SSM parameter (AWS); neither means fail closed."""
    if location.file:
        return FileConfigText(location.file)
    if location.parameter:
        return SsmConfigText(location.parameter, limits=ssm_limits)
    return MissingConfigText()


def cached_config(location: ConfigLocation, *, ssm_limits: ClientLimits | None = None) -> CachedConfig:
    """The configuration every unit reads, validated against the commands slashops declares.

    `ssm_limits` bounds the SSM read (the ingress must answer within 3 s; botocore's defaults would not).
    """
    from shared.commands.catalog import CATALOG

    return CachedConfig(
        config_text(location, ssm_limits=ssm_limits), known_commands=CATALOG.names(), ttl_seconds=location.ttl_seconds
    )


def groups_ttl(config: ConfigPort) -> float:
    """The configuration's `slack.groups_ttl` for the user-group cache; 0 (ask again) while it is unusable."""
    try:
        return float(config.get().slack.groups_ttl)
    except ConfigurationError:
        return 0.0


def names_ttl(config: ConfigPort) -> float:
    """The configuration's `slack.names_ttl` for the name cache; 0 (ask again) while it is unusable."""
    try:
        return float(config.get().slack.names_ttl)
    except ConfigurationError:
        return 0.0
