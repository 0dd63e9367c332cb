"""Answering a click: Slack ignores the HTTP body of a `block_actions` answer, so the message goes to the click's
`response_url` (5 uses, 30 minutes), replacing the message that held the button.

`Responder` is the port; `WebhookResponder` (a JSON POST, as slack-sdk's `WebhookClient` makes it, but with a
timeout of the time left to the second's fraction) the one adapter; tests use a local HTTP server or record.
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

from shared.deadline import Deadline
from shared.slack.blocks import SlackMessage

logger = logging.getLogger(__name__)


class Responder(Protocol):
    def respond(self, response_url: str, message: SlackMessage, *, deadline: Deadline) -> bool:
        """Post `message` to `response_url` within `deadline`; False (logged) if Slack did not take it."""
        ...


MIN_SECONDS_TO_RESPOND = 0.2
"""Less than this left of the answer's budget, and the answer is not posted: Slack's 3 s come first."""


class WebhookResponder:
    """One attempt, within the request's deadline; never raises."""

    def respond(self, response_url: str, message: SlackMessage, *, deadline: Deadline) -> bool:
        remaining = deadline.remaining()
        if remaining < MIN_SECONDS_TO_RESPOND:
            logger.warning("a click's answer was not posted: out of time")
            return False
        import urllib.request  # here: only a click's answer needs it, not a command's cold start

        body = json.dumps(message.payload()).encode()
        request = urllib.request.Request(
            response_url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=remaining) as answer:  # noqa: S310 - Slack's https URL
                return bool(answer.status == 200)
        except Exception as error:  # best effort: the HTTP answer and the ledger still hold it
            logger.warning("could not answer a click on its response_url (%s)", type(error).__name__)
            return False
