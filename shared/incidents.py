"""Incidents: a broken configuration told to its two audiences, tied together by one id.

The admins read the detail (which rule, which field, which file or parameter) in the logs, at ERROR; the user
reads only that slashops is misconfigured and the incident id to hand over (`shared.slack.messages.misconfigured`).
File paths and parameter names never reach Slack: they tell an outsider where the secrets live.
"""

from __future__ import annotations

import logging
import secrets

from shared.errors import ConfigurationError

logger = logging.getLogger(__name__)
MAX_DETAIL = 2000
"""The most characters of a problem's detail an incident logs (the configuration's own errors are shorter)."""


def new_incident_id() -> str:
    """8 lowercase hex characters: short enough to read out, unique enough within a day's logs."""
    return secrets.token_hex(4)


def open_incident(error: ConfigurationError, *, where: str, command_id: str | None = None) -> str:
    """Log the configuration problem's detail at ERROR under a new incident id, and return the id for the user."""
    incident = new_incident_id()
    detail = error.message if len(error.message) <= MAX_DETAIL else error.message[: MAX_DETAIL - 1] + "…"
    fields = {"incident": incident, "where": where, "detail": detail}
    if command_id:
        fields["command_id"] = command_id
    # The id and the detail are in the text as well as in `extra`: local runs log plain text.
    logger.error("CONFIGURATION ERROR (incident %s) in the %s: %s", incident, where, detail, extra=fields)
    return incident
