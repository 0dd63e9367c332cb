"""slack-sdk adapter for `GroupDirectory` (`usergroups.list`, `usergroups.users.list`) and `NameDirectory`
(`users.list`, `users.lookupByEmail`, `conversations.list`) with the bot token.

Every failure (no token, a refused token, a missing `usergroups:read`/`users:read`/`channels:read` scope, 429, 5xx,
a timeout) becomes `GroupsUnavailableError` (`NamesUnavailableError` for names): the access rules that need a group
or a name then fail closed. `no_such_subteam` (a group Slack
does not know) is an answer, not a failure: nobody is in it. The client has no retry handlers and a short
timeout: the ingress must answer Slack within 3 s, and a consumer re-asks on its next message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.aws.clients import LazyClient
from shared.slack.bot import SlackBot
from shared.slack.groups import CachedGroupDirectory, GroupsUnavailableError, UserGroup
from shared.slack.names import CachedNameDirectory, NamesUnavailableError

if TYPE_CHECKING:
    from slack_sdk.web import WebClient

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_TIMEOUT_SECONDS = 1
UNKNOWN_GROUP = "no_such_subteam"
UNKNOWN_USER = "users_not_found"
PAGE_SIZE = 200
"""Slack's advice for paginated lists (`users.list`, `conversations.list`)."""
MAX_PAGES = 100
"""At most this many pages (20,000 users or channels): a workspace larger still is refused, not half-read."""
SDK_LOGGER = "shared.slack.sdk_groups.slack_sdk"


class SlackSdkGroupDirectory:
    """`token` is a callable so the bot token (env or Secrets Manager) is read only when a rule needs a group."""

    client: LazyClient[WebClient] = LazyClient(lambda directory: directory._web_client())

    def __init__(
        self,
        token: Callable[[], str | None],
        *,
        api_url: str | None = None,
        timeout: int = DEFAULT_TIMEOUT_SECONDS,
        client: WebClient | None = None,
    ) -> None:
        self._token = token
        self._api_url = api_url or DEFAULT_API_URL
        self._timeout = timeout
        self.client = client

    def groups(self) -> tuple[UserGroup, ...]:
        response = self._call("usergroups_list", include_disabled=False)
        found = (response or {}).get("usergroups") or []
        return tuple(
            UserGroup(id=str(group.get("id", "")), handle=str(group.get("handle", "")))
            for group in found
            if isinstance(group, dict) and group.get("id")
        )

    def members(self, group_id: str) -> frozenset[str]:
        response = self._call("usergroups_users_list", usergroup=group_id, include_disabled=False)
        if response is None:
            return frozenset()
        return frozenset(str(user) for user in response.get("users") or [])

    def user_ids(self) -> dict[str, str]:
        members = self._pages("users_list", "members", NamesUnavailableError)
        return {
            str(user["name"]): str(user["id"])
            for user in members
            if user.get("name") and user.get("id") and not user.get("deleted")
        }

    def user_id_by_email(self, email: str) -> str | None:
        try:
            response = self._call("users_lookupByEmail", email=email)
        except GroupsUnavailableError as error:
            raise NamesUnavailableError(str(error)) from error
        user = (response or {}).get("user") or {}
        return str(user["id"]) if isinstance(user, dict) and user.get("id") and not user.get("deleted") else None

    def channel_ids(self) -> dict[str, str]:
        channels = self._pages(
            "conversations_list", "channels", NamesUnavailableError, types="public_channel,private_channel"
        )
        return {str(channel["name"]): str(channel["id"]) for channel in channels if channel.get("name")}

    def _pages(self, method: str, key: str, unavailable: type[Exception], **arguments: Any) -> list[dict[str, Any]]:
        """Every page of a cursor-paginated list; a list that cannot be read whole is a failure, not an answer."""
        found: list[dict[str, Any]] = []
        cursor = ""
        try:
            for _ in range(MAX_PAGES):
                response = self._call(method, limit=PAGE_SIZE, cursor=cursor or None, **arguments) or {}
                found += [item for item in response.get(key) or [] if isinstance(item, dict)]
                cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
                if not cursor:
                    return found
        except GroupsUnavailableError as error:
            raise unavailable(str(error)) from error
        raise unavailable(f"{method}: more than {MAX_PAGES * PAGE_SIZE} entries, not read whole")

    def _web_client(self) -> WebClient:
        from slack_sdk.web import WebClient

        token = self._token()
        if not token:
            raise GroupsUnavailableError("no bot token configured (SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_SECRET_ID)")
        return WebClient(
            token=token,
            base_url=self._api_url,
            timeout=self._timeout,
            retry_handlers=[],
            logger=logging.getLogger(SDK_LOGGER),
        )

    def _call(self, method: str, **arguments: Any) -> Any:
        """The response, or None for a group Slack does not know; every other failure is `GroupsUnavailableError`."""
        from slack_sdk.errors import SlackApiError

        try:
            return getattr(self.client, method)(**arguments)
        except SlackApiError as error:
            code = error.response.get("error")
            if code in (UNKNOWN_GROUP, UNKNOWN_USER):
                return None
            raise GroupsUnavailableError(f"{method}: {error.response.status_code} {code}") from error
        except GroupsUnavailableError:
            raise
        except Exception as error:  # urllib's URLError, TimeoutError, OSError…: Slack could not be asked
            raise GroupsUnavailableError(f"{method}: Slack unreachable ({type(error).__name__})") from error


def group_directory(bot: SlackBot, *, ttl: Callable[[], float], timeout: int = 1) -> CachedGroupDirectory:
    """The real directory every unit uses: slack-sdk behind the TTL cache (nothing is built or read until asked)."""
    adapter = SlackSdkGroupDirectory(bot.read_token, api_url=bot.api_url, timeout=timeout)
    return CachedGroupDirectory(adapter, ttl=ttl)


def name_directory(bot: SlackBot, *, ttl: Callable[[], float], timeout: int = 1) -> CachedNameDirectory:
    """The real name directory every unit uses: slack-sdk behind the TTL cache (nothing built or read until asked)."""
    adapter = SlackSdkGroupDirectory(bot.read_token, api_url=bot.api_url, timeout=timeout)
    return CachedNameDirectory(adapter, ttl=ttl)
