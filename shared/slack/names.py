"""Names in access rules, resolved to Slack IDs: the port, a TTL cache over it, and what the rules' names stand for.

An identity is a Slack ID: user names and channel names can be changed by their owners, IDs cannot. So a rule entry
that is an ID (`U0ALICE`, `C0DEPLOYS`) matches only that ID, and a rule entry that is a name (`example.user`,
`alice@example.com`, `#deploys`) is resolved to an ID *through Slack* — never compared with the name a request
carries (which the sender chooses). Resolution is cached (`CachedNameDirectory`, TTL from the configuration's
`slack.names_ttl`); when Slack cannot be asked, `resolve_names` leaves the names unknown and the rules naming them
fail closed (`shared.config.access`).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from shared.deadline import Deadline, ask_within
from shared.errors import UnavailableError
from shared.slack.remembered import Remembered

logger = logging.getLogger(__name__)

USER_ID = re.compile(r"[UW][A-Z0-9]{1,40}")
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,40}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_SECONDS_PER_ASK = 0.3
"""Less than this left of the request's budget, and Slack is not asked: the rules naming names fail closed."""


def is_user_id(entry: str) -> bool:
    """`U…`/`W…` in capitals and digits: Slack's user IDs. Anything else in a rule's `users` is a name or an email."""
    return USER_ID.fullmatch(entry) is not None


def is_channel_id(entry: str) -> bool:
    """`C…`/`G…`/`D…` in capitals and digits. Anything else in a rule's `channels` is a channel name (`#` optional)."""
    return CHANNEL_ID.fullmatch(entry) is not None


def channel_key(entry: str) -> str:
    """A channel name as the rules' resolution keys it: without `#`."""
    return entry.removeprefix("#")


class NamesUnavailableError(UnavailableError):
    """Slack could not be asked (unreachable, slow, rate-limited, no token, token refused, scope missing)."""

    title = "Slack unavailable"


class NameDirectory(Protocol):
    """Slack's users and channels by name; every method raises `NamesUnavailableError` when Slack cannot be asked."""

    def user_ids(self) -> Mapping[str, str]:
        """`{user name: user ID}` of the workspace's active users (`users.list`)."""
        ...

    def user_id_by_email(self, email: str) -> str | None:
        """The user ID with this email (`users.lookupByEmail`); None when Slack knows no such user."""
        ...

    def channel_ids(self) -> Mapping[str, str]:
        """`{channel name: channel ID}` of the channels the bot can see (`conversations.list`)."""
        ...


@dataclass(frozen=True)
class Names:
    """What the names the rules use stand for: `users` maps a user name or email (as a rule writes it) to its user ID,
    `channels` a channel name (without `#`) to its channel ID; a value None: Slack knows no such name (the entry
    matches no one). A name missing from its mapping, or a mapping that is None (Slack could not be asked), is
    unknown: the rules naming it fail closed."""

    users: Mapping[str, str | None] | None = field(default_factory=lambda: MappingProxyType({}))
    channels: Mapping[str, str | None] | None = field(default_factory=lambda: MappingProxyType({}))

    def user(self, entry: str, user_id: str) -> bool | None:
        """Whether the rule entry `entry` (an ID or a name) is this user; None when only Slack could tell."""
        if is_user_id(entry):
            return entry == user_id
        return _same(self.users, entry, user_id)

    def channel(self, entry: str, channel_id: str) -> bool | None:
        """Whether the rule entry `entry` (an ID or a name, `#` optional) is this channel; None when unknown."""
        if is_channel_id(entry):
            return entry == channel_id
        return _same(self.channels, channel_key(entry), channel_id)


NO_NAMES = Names()
"""No rule names a name: nothing to resolve (every entry is an ID)."""


def _same(resolved: Mapping[str, str | None] | None, key: str, identifier: str) -> bool | None:
    if resolved is None or key not in resolved:
        return None
    return resolved[key] == identifier


def matches_any(entries: Iterable[str], test: Callable[[str], bool | None]) -> bool | None:
    """True when an entry matches; None when none does but one could not be resolved; False otherwise."""
    unknown = False
    for entry in entries:
        found = test(entry)
        if found is True:
            return True
        unknown = unknown or found is None
    return None if unknown else False


class CachedNameDirectory:
    """A `NameDirectory` remembering Slack's answers for `ttl()` seconds (on `clock`); failures are not cached
    (`shared.slack.remembered`)."""

    def __init__(
        self,
        inner: NameDirectory,
        *,
        ttl: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._lists: Remembered[str, Mapping[str, str]] = Remembered(ttl=ttl, clock=clock)
        self._emails: Remembered[str, str | None] = Remembered(ttl=ttl, clock=clock)

    def user_ids(self) -> Mapping[str, str]:
        return self._lists.get("users", self._inner.user_ids)

    def user_id_by_email(self, email: str) -> str | None:
        return self._emails.get(email, lambda: self._inner.user_id_by_email(email))

    def channel_ids(self) -> Mapping[str, str]:
        return self._lists.get("channels", self._inner.channel_ids)


@dataclass(frozen=True)
class NameReferences:
    """The names (not IDs) some rules use: user names and emails, channel names (without `#`)."""

    users: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.users or self.channels)

    @classmethod
    def among(cls, users: Iterable[str], channels: Iterable[str]) -> NameReferences:
        return cls(
            users=frozenset(entry for entry in users if not is_user_id(entry)),
            channels=frozenset(channel_key(entry) for entry in channels if not is_channel_id(entry)),
        )


def resolve_names(
    wanted: NameReferences,
    directory: NameDirectory | None,
    *,
    deadline: Deadline | None = None,
) -> Names:
    """What Slack says each wanted name stands for. Nothing wanted: `NO_NAMES`, Slack not asked. Slack failing (or no
    directory, or no time left before `deadline`): that kind of name stays unknown (None), and its rules fail closed."""
    if not wanted:
        return NO_NAMES
    users = _resolved_users(wanted.users, directory, deadline) if wanted.users else MappingProxyType({})
    channels = _resolved_channels(wanted.channels, directory, deadline) if wanted.channels else MappingProxyType({})
    return Names(users=users, channels=channels)


def _resolved_users(
    wanted: frozenset[str], directory: NameDirectory | None, deadline: Deadline | None
) -> Mapping[str, str | None] | None:
    if directory is None:
        return None
    try:
        by_name = _ask(directory.user_ids, deadline) if any(not EMAIL.fullmatch(e) for e in wanted) else {}
        resolved: dict[str, str | None] = {}
        for entry in sorted(wanted):
            if EMAIL.fullmatch(entry):
                resolved[entry] = _ask(functools.partial(directory.user_id_by_email, entry), deadline)
            else:
                resolved[entry] = by_name.get(entry.removeprefix("@"))
    except NamesUnavailableError as error:
        logger.warning("user names unavailable, rules naming users by name fail closed: %s", error)
        return None
    _warn_unknown("users", resolved)
    return MappingProxyType(resolved)


def _resolved_channels(
    wanted: frozenset[str], directory: NameDirectory | None, deadline: Deadline | None
) -> Mapping[str, str | None] | None:
    if directory is None:
        return None
    try:
        by_name = _ask(directory.channel_ids, deadline)
    except NamesUnavailableError as error:
        logger.warning("channel names unavailable, rules naming channels by name fail closed: %s", error)
        return None
    resolved = {entry: by_name.get(entry) for entry in sorted(wanted)}
    _warn_unknown("channels", resolved)
    return MappingProxyType(resolved)


def _ask[T](call: Callable[[], T], deadline: Deadline | None) -> T:
    """Within the request's budget: a Slack that answers too late counts as one that could not be asked."""
    return ask_within(deadline, call, at_least=MIN_SECONDS_PER_ASK, unavailable=NamesUnavailableError, whom="Slack")


def _warn_unknown(kind: str, resolved: Mapping[str, str | None]) -> None:
    unknown = sorted(name for name, found in resolved.items() if found is None)
    if unknown:
        shown = ", ".join(name[:80] for name in unknown[:20])
        logger.warning("access rules name %s Slack does not know (they match no one): %s", kind, shown)
