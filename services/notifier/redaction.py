"""Keep response_urls out of the logs, including the lines slack-sdk itself writes.

A response_url is a bearer credential: whoever holds it can post as the app into the user's conversation for
30 minutes. slack-sdk logs the full request URL when a retry handler steps in (at INFO: "A retry handler
found … for POST https://hooks.slack.com/commands/…", "Going to retry the same request: …") and in its
DEBUG request lines. The notifier's Slack clients therefore log through `slack_sdk_logger()`, whose filter
rewrites every URL in a record to its scheme and host (Web API paths like `/api/chat.postMessage` are kept:
they name a method, not a credential). The filter is installed when the adapter builds its clients, not at
import time.
"""

from __future__ import annotations

import logging
import re

SLACK_SDK_LOGGER = "services.notifier.slack_sdk"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>,.;:)]")
_HOST_AND_PATH = re.compile(r"(?P<origin>[^:]+://[^/?#]+)(?P<path>[^?#]*)")


class RedactUrls(logging.Filter):
    """Rewrites the record's message so no URL path or query survives (except Web API method paths)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_urls(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_urls(text: str) -> str:
    return _URL.sub(lambda found: _redact(found.group(0)), text)


def _redact(url: str) -> str:
    parts = _HOST_AND_PATH.match(url)
    if parts is None:
        return "<url redacted>"
    path = parts.group("path")
    if path.startswith("/api/") and url == parts.group(0):
        return url  # a Web API method, nothing secret (the token travels in a header slack-sdk redacts)
    return f"{parts.group('origin')}/…(redacted)"


def slack_sdk_logger() -> logging.Logger:
    """The logger the notifier's slack-sdk clients write to, with `RedactUrls` on it (added once)."""
    logger = logging.getLogger(SLACK_SDK_LOGGER)
    if not any(isinstance(existing, RedactUrls) for existing in logger.filters):
        logger.addFilter(RedactUrls())
    return logger
