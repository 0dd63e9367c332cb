"""The HTTP edge: raw body and headers in, status and JSON out. Never raises, never answers 500."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from chalicelib.service import IngressDeps, handle_command
from chalicelib.slack_request import parse_form, to_slash_command
from chalicelib.verification import is_signed_by_slack
from shared.errors import ConfigurationError, SlashopsError
from shared.slack.blocks import SlackMessage
from shared.slack.messages import error_message

logger = logging.getLogger(__name__)
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))


def handle_slash_http(
    body: bytes,
    headers: Mapping[str, str],
    *,
    signing_secret: Callable[[], str],
    deps: Callable[[], IngressDeps],
) -> HttpAnswer:
    """Verify first, then parse; any unexpected failure becomes a Slack message, not a traceback."""
    try:
        return _answer(body, headers, signing_secret, deps)
    except Exception:
        incident = uuid.uuid4().hex[:8]
        logger.exception("unexpected error answering a slash command", extra={"incident": incident})
        failure = SlashopsError(
            f"slashops hit an unexpected error (incident `{incident}`); nothing was started.",
            hint="Please try again; if it keeps happening, give the incident id to whoever runs slashops.",
        )
        return _message(error_message(failure))


def _answer(
    body: bytes, headers: Mapping[str, str], signing_secret: Callable[[], str], deps: Callable[[], IngressDeps]
) -> HttpAnswer:
    try:
        secret = signing_secret()
    except ConfigurationError as error:
        logger.error("CONFIGURATION ERROR: %s", error.message)
        return _message(error_message(ConfigurationError("slashops cannot verify Slack requests right now.")))
    if not is_signed_by_slack(body, headers, secret):
        logger.warning("rejected a request with a missing, stale or forged Slack signature")
        return HttpAnswer(status=401, body=json.dumps({"error": "invalid signature"}))
    form = parse_form(body)
    if form.get("ssl_check") == "1":
        return HttpAnswer(status=200, headers={})
    try:
        request = to_slash_command(form)
    except SlashopsError as error:
        return _message(error_message(error))
    return _message(handle_command(request, deps()))


def _message(message: SlackMessage) -> HttpAnswer:
    return HttpAnswer(status=200, body=json.dumps(message.payload()))
