"""slack-sdk adapter for `SlackPort`: `WebhookClient` for response_urls, `WebClient` for the bot.

Error mapping (one place): 429 is waited out here while `Retry-After` is short (longer waits and 5xx or
network errors become `SlackUnavailableError`, retried through SQS); token errors become `SlackAuthError`;
`not_in_channel`/`channel_not_found` become `ChannelUnavailableError`; a 404 from a response_url
(expired, used up) becomes `ResponseUrlUnusableError`; any other refusal is `SlackRejectedError`.
Both clients log through `slack_sdk_logger()`, so slack-sdk's own lines never carry a response_url: a response_url
is a bearer credential (whoever holds it can post as the app into the user's conversation for 30 minutes), and
slack-sdk logs the full request URL when a retry handler steps in (at INFO: "A retry handler found … for POST
https://hooks.slack.com/commands/…", "Going to retry the same request: …") and in its DEBUG request lines. The
logger's filter rewrites every URL in a record to its scheme and host (Web API paths like `/api/chat.postMessage`
are kept: they name a method, not a credential); it is installed when the adapter builds its clients, not at import.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from services.notifier.errors import (
    ChannelUnavailableError,
    ResponseUrlRefusedError,
    ResponseUrlUnusableError,
    SlackAuthError,
    SlackRejectedError,
    SlackUnavailableError,
)
from shared.aws.clients import LazyClient
from shared.slack.blocks import SlackMessage

if TYPE_CHECKING:
    from slack_sdk.http_retry import RetryHandler
    from slack_sdk.web import WebClient

logger = logging.getLogger(__name__)

AUTH_ERRORS = frozenset(
    {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive", "no_permission"}
)
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 5
MAX_RETRY_AFTER_SECONDS = 20
SLACK_SDK_LOGGER = "services.notifier.slack_sdk"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>,.;:)]")
_HOST_AND_PATH = re.compile(r"(?P<origin>[^:]+://[^/?#]+)(?P<path>[^?#]*)")


class SlackSdkAdapter:
    """`token` is a callable so the bot token is read (env or Secrets Manager) only when the bot posts."""

    client: LazyClient[WebClient] = LazyClient(lambda adapter: adapter._web_client())

    def __init__(
        self,
        token: Callable[[], str | None],
        *,
        api_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
        client: WebClient | None = None,
    ) -> None:
        self._token = token
        self._api_url = api_url or DEFAULT_API_URL
        self._sleep = sleep
        self._max_retry_after = max_retry_after
        self.client = client

    def respond(self, response_url: str, message: SlackMessage) -> None:
        from slack_sdk.errors import SlackRequestError
        from slack_sdk.webhook import WebhookClient

        if not response_url.lower().startswith(("https://", "http://")):  # "" too: urllib would call it a ValueError
            raise ResponseUrlUnusableError("response_url is not a valid URL")
        webhook = WebhookClient(
            response_url, timeout=TIMEOUT_SECONDS, retry_handlers=self._retry_handlers(), logger=slack_sdk_logger()
        )
        try:
            response = webhook.send_dict(message.payload())
        except SlackRequestError as error:  # not an http(s) URL: no retry will make it one
            raise ResponseUrlUnusableError("response_url is not a valid URL") from error
        except Exception as error:  # urllib raises URLError, OSError, TimeoutError, http.client errors…
            if _refused(error):
                raise ResponseUrlRefusedError("nothing listens at the response_url (connection refused)") from error
            raise SlackUnavailableError(f"response_url unreachable ({type(error).__name__})") from error
        _check_webhook(response.status_code, str(response.body or ""))

    def post(self, channel: str, message: SlackMessage, *, thread_ts: str = "") -> str:
        threaded = {"thread_ts": thread_ts} if thread_ts else {}
        response = self._call("chat_postMessage", channel=channel, **threaded, **_content(message))
        return str(response.get("ts", ""))

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        self._call("chat_update", channel=channel, ts=ts, **_content(message))

    def open_dm(self, user_id: str) -> str:
        response = self._call("conversations_open", users=user_id)
        channel = response.get("channel") or {}
        return str(channel.get("id", ""))

    def _web_client(self) -> WebClient:
        """The bot's client, built when it first posts; without a token that is a `SlackAuthError` (retried then)."""
        from slack_sdk.web import WebClient

        token = self._token()
        if not token:
            raise SlackAuthError("no bot token configured (SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_SECRET_ID)")
        return WebClient(
            token=token,
            base_url=self._api_url,
            timeout=TIMEOUT_SECONDS,
            retry_handlers=self._retry_handlers(),
            logger=slack_sdk_logger(),
        )

    def _call(self, method: str, **arguments: Any) -> Any:
        from slack_sdk.errors import SlackApiError

        try:
            return getattr(self.client, method)(**arguments)
        except SlackApiError as error:
            raise _api_error(method, error.response.status_code, error.response.get("error")) from error
        except SlackAuthError:
            raise
        except Exception as error:
            raise SlackUnavailableError(f"{method}: Slack unreachable ({type(error).__name__})") from error

    def _retry_handlers(self) -> list[RetryHandler]:
        from slack_sdk.http_retry import ConnectionErrorRetryHandler
        from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

        return [
            ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.2)),
            retry_after_handler(sleep=self._sleep, max_wait=self._max_retry_after),
        ]


def retry_after_handler(*, sleep: Callable[[float], None], max_wait: float, max_retry_count: int = 2) -> RetryHandler:
    """slack-sdk's 429 handler, honouring `Retry-After` with an injectable sleep; waits longer than
    `max_wait` are not spent in the Lambda: the 429 surfaces and SQS redelivers the message later."""
    from slack_sdk.http_retry import RateLimitErrorRetryHandler

    class RetryAfterHandler(RateLimitErrorRetryHandler):
        def prepare_for_next_attempt(
            self, *, state: Any, request: Any, response: Any = None, error: Any = None
        ) -> None:
            wait = _retry_after(response.headers if response is not None else {})
            if wait > max_wait:
                logger.warning("Slack asks to wait %.0f s: leaving the retry to SQS", wait)
                return
            logger.info("Slack rate limit: waiting %.0f s as Retry-After asks", wait)
            sleep(wait)
            state.next_attempt_requested = True
            state.increment_current_attempt()

    return RetryAfterHandler(max_retry_count=max_retry_count)


def _content(message: SlackMessage) -> dict[str, Any]:
    """Text and blocks (within Slack's limits) for the Web API; an empty `blocks` is left out."""
    payload = message.payload()
    content: dict[str, Any] = {"text": payload["text"]}
    if payload["blocks"]:
        content["blocks"] = payload["blocks"]
    return content


def _retry_after(headers: dict[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                break
    return 1.0


def _check_webhook(status: int, body: str) -> None:
    if status == 200:
        return
    reason = body.strip()[:80]
    if status == 429 or status >= 500:
        raise SlackUnavailableError(f"response_url answered {status} {reason}")
    if status == 404 or reason in ("expired_url", "used_url", "no_service"):
        raise ResponseUrlUnusableError(f"response_url answered {status} {reason}")
    raise SlackRejectedError(f"response_url refused the message: {status} {reason}")


def _api_error(method: str, status: int, code: object) -> Exception:
    text = f"{method}: {status} {code}"
    if (
        status == 429
        or status >= 500
        or code in ("ratelimited", "internal_error", "fatal_error", "service_unavailable")
    ):
        return SlackUnavailableError(text)
    if code in AUTH_ERRORS:
        return SlackAuthError(text)
    if code in CHANNEL_ERRORS:
        return ChannelUnavailableError(text)
    return SlackRejectedError(text)


# --- keeping response_urls out of the logs ---------------------------------------------------------------


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


def _refused(error: BaseException) -> bool:
    """A refused connection (directly, or as urllib's `URLError.reason`): the request never left this machine."""
    reason = getattr(error, "reason", None)
    return isinstance(error, ConnectionRefusedError) or isinstance(reason, ConnectionRefusedError)
