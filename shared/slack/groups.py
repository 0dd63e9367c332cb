"""Slack user groups for access rules: the port, a TTL cache over it, and "which of these groups is the caller in".

Access rules may name user groups (`groups: [S0SRE, "@sre"]`); who is in them lives in Slack. The ingress and the
consumers ask through `GroupDirectory` (the slack-sdk adapter is `shared.slack.sdk_groups`); the answers are
cached (`CachedGroupDirectory`, TTL from the configuration's `slack.groups_ttl`) because group edits are rare and
Slack rate-limits `usergroups.*`. When Slack cannot be asked, `caller_groups` answers None and the access rules
fail closed (`shared.config.access`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from shared.deadline import Deadline, ask_within
from shared.errors import UnavailableError
from shared.slack.remembered import Remembered

logger = logging.getLogger(__name__)


class GroupsUnavailableError(UnavailableError):
    """Slack could not be asked (unreachable, slow, rate-limited, no token, token refused)."""

    title = "Slack unavailable"


@dataclass(frozen=True)
class UserGroup:
    """A Slack user group: its ID (`S…`) and its handle (without `@`)."""

    id: str
    handle: str

    def named_by(self, reference: str) -> bool:
        """A rule names a group by ID or by handle, with or without `@`."""
        return reference == self.id or (bool(self.handle) and reference.removeprefix("@") == self.handle)


class GroupDirectory(Protocol):
    """Slack's user groups; every method raises `GroupsUnavailableError` when Slack cannot be asked."""

    def groups(self) -> tuple[UserGroup, ...]:
        """Every (enabled) user group of the workspace: `usergroups.list`."""
        ...

    def members(self, group_id: str) -> frozenset[str]:
        """The user IDs in the group: `usergroups.users.list`; empty for a group Slack does not know."""
        ...


class CachedGroupDirectory:
    """A `GroupDirectory` remembering Slack's answers for `ttl()` seconds (on `clock`); failures are not cached
    (`shared.slack.remembered`)."""

    def __init__(
        self,
        inner: GroupDirectory,
        *,
        ttl: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._groups: Remembered[str, tuple[UserGroup, ...]] = Remembered(ttl=ttl, clock=clock)
        self._members: Remembered[str, frozenset[str]] = Remembered(ttl=ttl, clock=clock)

    def groups(self) -> tuple[UserGroup, ...]:
        return self._groups.get("groups", self._inner.groups)

    def members(self, group_id: str) -> frozenset[str]:
        return self._members.get(group_id, lambda: self._inner.members(group_id))


MIN_SECONDS_PER_ASK = 0.3
"""Less than this left of the request's budget, and Slack is not asked: the group rules fail closed instead."""


def caller_groups(
    user_id: str,
    named: Iterable[str],
    directory: GroupDirectory | None,
    *,
    deadline: Deadline | None = None,
) -> tuple[UserGroup, ...] | None:
    """The groups among `named` (IDs or handles, as the rules write them) that `user_id` is in.

    None means Slack could not be asked (no directory, Slack failing, or no time left before `deadline`): the
    caller's group rules then fail closed. No group named: `()` without asking Slack at all.
    """
    wanted = {reference.strip() for reference in named if reference.strip()}
    if not wanted:
        return ()
    if directory is None:
        return None
    try:
        known = _ask(directory.groups, deadline)
        found = []
        for group in known:
            if any(group.named_by(reference) for reference in wanted):
                if user_id in _ask(functools.partial(directory.members, group.id), deadline):
                    found.append(group)
    except GroupsUnavailableError as error:
        logger.warning("user groups unavailable, group rules fail closed: %s", error)
        return None
    _warn_unknown(wanted, known)
    return tuple(found)


def _ask[T](call: Callable[[], T], deadline: Deadline | None) -> T:
    """Within the request's budget: a Slack that answers too late counts as one that could not be asked."""
    return ask_within(deadline, call, at_least=MIN_SECONDS_PER_ASK, unavailable=GroupsUnavailableError, whom="Slack")


def _warn_unknown(wanted: set[str], known: tuple[UserGroup, ...]) -> None:
    unknown = sorted(ref for ref in wanted if not any(group.named_by(ref) for group in known))
    if unknown:
        logger.warning("access rules name user groups Slack does not know (nobody is in them): %s", ", ".join(unknown))
