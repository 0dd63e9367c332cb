"""Settings from the environment, read one way everywhere: a variable that is unset or empty means its default.

Every unit reads its settings in its composition root (`deps.py`), when the first request arrives, never at import.
The names several units read are declared here once (the event bus, the queues' URLs); each table's variable and
default name are in the table registry (`shared.aws.tables`).
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.errors import ConfigurationError

EVENT_BUS = "SLASHOPS_EVENT_BUS"
DEFAULT_EVENT_BUS = "slashops"
BACKUP_BUCKET = "SLASHOPS_BACKUP_BUCKET"
"""Where the backup worker keeps its dumps (`make run` names its local bucket here)."""


def setting(env: Mapping[str, str], name: str, default: str = "") -> str:
    """`env[name]`, or `default` when it is unset, empty or only blanks (a template's empty parameter)."""
    value = env.get(name, "")
    return value if value.strip() else default


def optional_setting(env: Mapping[str, str], name: str) -> str | None:
    """`env[name]`, or None when it is unset or empty."""
    return setting(env, name) or None


def int_setting(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number; anything else is a `ConfigurationError` naming the variable."""
    return _number(env, name, default, int)


def float_setting(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds, a timeout; anything else is a `ConfigurationError` naming the variable."""
    return _number(env, name, default, float)


def _number[N: (int, float)](env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    text = setting(env, name)
    if not text:
        return default
    try:
        return kind(text.strip())
    except ValueError:
        raise ConfigurationError(f"{name}={text!r} is not a {'whole ' if kind is int else ''}number") from None


def event_bus(env: Mapping[str, str]) -> str:
    """The bus every unit publishes on (`SLASHOPS_EVENT_BUS`, default `slashops`)."""
    return setting(env, EVENT_BUS, DEFAULT_EVENT_BUS)


def queue_url_variable(consumer: str) -> str:
    """The variable holding a consumer's queue URL: `deploy` -> `SLASHOPS_DEPLOY_QUEUE_URL`, `cdn-purge` ->
    `SLASHOPS_CDN_PURGE_QUEUE_URL` (the bus stack creates one queue per consumer)."""
    return f"SLASHOPS_{consumer.upper().replace('-', '_')}_QUEUE_URL"
