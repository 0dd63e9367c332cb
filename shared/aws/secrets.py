"""Secrets Manager reads for every service, cached by Powertools so a warm Lambda does not re-fetch them."""

from __future__ import annotations

from shared.errors import ConfigurationError

SECRET_CACHE_SECONDS = 300


def read_secret(secret_id: str, *, what: str, max_age: int = SECRET_CACHE_SECONDS) -> str:
    """The secret's string value; `ConfigurationError` naming `what` if it is unreadable or empty."""
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(secret_id, max_age=max_age)
    except Exception as error:  # Powertools wraps botocore errors in several types
        raise ConfigurationError(f"cannot read the {what} {secret_id!r} ({type(error).__name__})") from error
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"the {what} {secret_id!r} is empty")
    return value
