"""An in-memory `NameDirectory` (shared/slack/names.py); tests/contracts/test_name_directory.py holds it to the
slack-sdk adapter talking to the local fake Slack server, so the two answer (and fail) alike."""

from __future__ import annotations

from collections import Counter

from shared.slack.names import NamesUnavailableError

EXAMPLE_USER_ID = "U0EXAMPLE"
"""Who the tests' rules' `example.user` is in the fakes' Slack."""


class MemoryNameDirectory:
    """`user(id, name, email)` and `channel(id, name)` define what Slack knows; `unavailable=True` is a Slack that
    cannot be asked. `calls` counts the asks per method, to see what a cache saved."""

    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.calls: Counter[str] = Counter()
        self._users: dict[str, str] = {}
        self._emails: dict[str, str] = {}
        self._channels: dict[str, str] = {}

    def user(self, user_id: str, name: str, email: str = "") -> MemoryNameDirectory:
        self._users[name] = user_id
        if email:
            self._emails[email] = user_id
        return self

    def channel(self, channel_id: str, name: str) -> MemoryNameDirectory:
        self._channels[name] = channel_id
        return self

    def user_ids(self) -> dict[str, str]:
        self._ask("user_ids")
        return dict(self._users)

    def user_id_by_email(self, email: str) -> str | None:
        self._ask("user_id_by_email")
        return self._emails.get(email)

    def channel_ids(self) -> dict[str, str]:
        self._ask("channel_ids")
        return dict(self._channels)

    def _ask(self, method: str) -> None:
        self.calls[method] += 1
        if self.unavailable:
            raise NamesUnavailableError(f"{method}: Slack unreachable (scripted)")


def seeded_names() -> MemoryNameDirectory:
    """The names the tests' events and rules use: channel `ops` is the events' `C0123`, `example.user` is
    `U0EXAMPLE` (a name in a rule is that user only through Slack, never through the name a request carries)."""
    return MemoryNameDirectory().user(EXAMPLE_USER_ID, "example.user").channel("C0123", "ops")
