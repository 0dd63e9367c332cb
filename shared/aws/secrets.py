"""Secrets Manager reads for every service (through Powertools), cached so a warm Lambda does not re-fetch them.

`cached_secret` answers from the cache only, never waiting on the network: the ingress verifies a warm request
with it directly, and reads through a deadline-bounded thread only when it has nothing fresh.
"""

from __future__ import annotations

import sys
import time

from shared.errors import ConfigurationError

SECRET_CACHE_SECONDS = 300
_FETCHED: dict[str, tuple[str, float]] = {}
"""secret id -> (value, when it was fetched on the monotonic clock)."""


def cached_secret(secret_id: str, *, max_age: float = SECRET_CACHE_SECONDS) -> str | None:
    """The value fetched less than `max_age` seconds ago, or None; no I/O."""
    fetched = _FETCHED.get(secret_id)
    if fetched is None or time.monotonic() - fetched[1] >= max_age:
        return None
    return fetched[0]


def read_secret(secret_id: str, *, what: str, max_age: int = SECRET_CACHE_SECONDS) -> str:
    """The secret's string value, at most `max_age` seconds old; `ConfigurationError` naming `what` if it is
    unreadable or empty."""
    cached = cached_secret(secret_id, max_age=max_age)
    if cached is not None:
        return cached
    from aws_lambda_powertools.utilities import parameters

    try:  # fetched now (force_fetch): the age counted by `cached_secret` is the value's real age
        value = parameters.get_secret(secret_id, max_age=max_age, force_fetch=True)
    except Exception as error:  # Powertools wraps botocore errors in several types
        raise ConfigurationError(f"cannot read the {what} {secret_id!r} ({type(error).__name__})") from error
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"the {what} {secret_id!r} is empty")
    _FETCHED[secret_id] = (value, time.monotonic())
    return value


def forget_secrets() -> None:
    """Forget every fetched secret, and Powertools' providers (their clients): after a SnapStart restore each
    environment reads its own, so no value (nor its age, counted from before the snapshot) is shared between them."""
    _FETCHED.clear()
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:  # not imported: nothing of it was cached
        parameters.clear_caches()
