"""An in-memory `GroupDirectory` (shared/slack/groups.py); tests/contracts/test_group_directory.py holds it to the
slack-sdk adapter talking to the local fake Slack server, so the two answer (and fail) alike."""

from __future__ import annotations

from collections import Counter

from shared.slack.groups import GroupsUnavailableError, UserGroup


class MemoryGroupDirectory:
    """`define(id, handle, members)` makes a group; `unavailable=True` is a Slack that cannot be asked.

    `calls` counts the asks per method (`groups`, `members`), to see what a cache saved.
    """

    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.calls: Counter[str] = Counter()
        self._groups: dict[str, tuple[str, frozenset[str]]] = {}

    def define(self, group_id: str, handle: str, members: list[str]) -> MemoryGroupDirectory:
        self._groups[group_id] = (handle, frozenset(members))
        return self

    def groups(self) -> tuple[UserGroup, ...]:
        self._ask("groups")
        return tuple(UserGroup(id=group_id, handle=handle) for group_id, (handle, _) in self._groups.items())

    def members(self, group_id: str) -> frozenset[str]:
        self._ask("members")
        found = self._groups.get(group_id)
        return found[1] if found is not None else frozenset()

    def _ask(self, method: str) -> None:
        self.calls[method] += 1
        if self.unavailable:
            raise GroupsUnavailableError(f"{method}: Slack unreachable (scripted)")
