"""slack-sdk adapter for `ViewsPort` (`views.open`, `views.update`, `chat.postEphemeral`) with the bot token.

No retries (a retried `views.open` would find its trigger expired), a short socket timeout, and every call bounded
by the request's deadline on top (`shared.deadline.ask_within`): a form must open within Slack's 3 seconds.
Every failure becomes `ViewsUnavailableError`, with Slack's error code when it gave one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.aws.clients import LazyClient
from shared.deadline import Deadline, ask_within
from shared.slack.bot import SlackBot
from shared.slack.views import ViewsUnavailableError

if TYPE_CHECKING:
    from slack_sdk.web import WebClient

DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 2
"""The socket's own limit; the request's deadline (shorter) is what actually bounds a call."""
AT_LEAST_SECONDS = 0.1
"""Less than this left, and Slack is not asked at all."""
SDK_LOGGER = "shared.slack.sdk_views.slack_sdk"


class SlackSdkViews:
    """`token` is a callable so the bot token (env or Secrets Manager) is read on the first form, not at start."""

    client: LazyClient[WebClient] = LazyClient(lambda views: views._web_client())

    def __init__(
        self, token: Callable[[], str | None], *, api_url: str | None = None, client: WebClient | None = None
    ) -> None:
        self._token = token
        self._api_url = api_url or DEFAULT_API_URL
        self.client = client

    def open(self, trigger_id: str, view: dict[str, Any], *, deadline: Deadline) -> str:
        response = self._call("views_open", deadline, trigger_id=trigger_id, view=view)
        opened = response.get("view") or {}
        return str(opened.get("id", "")) if isinstance(opened, dict) else ""

    def update(self, view_id: str, view: dict[str, Any], *, view_hash: str, deadline: Deadline) -> None:
        self._call("views_update", deadline, view_id=view_id, view=view, hash=view_hash or None)

    def post_ephemeral(self, channel: str, user: str, message: dict[str, Any], *, deadline: Deadline) -> None:
        self._call(
            "chat_postEphemeral",
            deadline,
            channel=channel,
            user=user,
            text=str(message.get("text", "")),
            blocks=message.get("blocks") or None,
        )

    def _web_client(self) -> WebClient:
        from slack_sdk.web import WebClient

        token = self._token()
        if not token:
            raise ViewsUnavailableError("no bot token configured (SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_SECRET_ID)")
        return WebClient(
            token=token,
            base_url=self._api_url,
            timeout=TIMEOUT_SECONDS,
            retry_handlers=[],
            logger=logging.getLogger(SDK_LOGGER),
        )

    def _call(self, method: str, deadline: Deadline, **arguments: Any) -> dict[str, Any]:
        return ask_within(
            deadline,
            lambda: self._ask(method, arguments),
            at_least=AT_LEAST_SECONDS,
            unavailable=ViewsUnavailableError,
            whom=f"Slack ({method.replace('_', '.')})",
        )

    def _ask(self, method: str, arguments: dict[str, Any]) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError

        try:
            response = getattr(self.client, method)(**arguments)
        except SlackApiError as error:
            code = error.response.get("error")
            raise ViewsUnavailableError(f"{method}: {error.response.status_code} {code}") from error
        except ViewsUnavailableError:
            raise
        except Exception as error:  # urllib's URLError, TimeoutError, OSError…: Slack could not be asked
            raise ViewsUnavailableError(f"{method}: Slack unreachable ({type(error).__name__})") from error
        data = response.data
        return data if isinstance(data, dict) else {}


def slack_views(bot: SlackBot) -> SlackSdkViews | None:
    """The real adapter, built from the bot settings (nothing read or built until the first form); None without a
    bot token configured: no form is offered (the ingress answers as the typed text)."""
    if not bot.token and not bot.token_secret_id:
        return None
    return SlackSdkViews(bot.read_token, api_url=bot.api_url)
