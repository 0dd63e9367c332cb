"""An in-memory `SlackPort` (services/notifier/ports.py): records what would be posted, raises scripted errors.

It keeps the rules of Slack that the notifier relies on — a response_url takes 5 posts and then answers like an
expired one, `chat.update` only edits a message that was posted, a DM channel is a stable `D…` id per user — and
raises the adapter's error types. tests/contracts/test_slack_port.py runs the same cases against this fake and the
slack-sdk adapter on the local fake Slack server, so the two cannot drift.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from services.notifier.errors import (
    NotifierError,
    ResponseUrlRefusedError,
    ResponseUrlUnusableError,
    SlackRejectedError,
)
from shared.slack.blocks import SlackMessage

MAX_USES = 5


@dataclass
class RecordingSlack:
    """Scripting: `respond_errors` are raised by the next responds, in order; `post_errors[channel]` by every post
    to that channel, `post_errors["update"]` once by the next update, `post_errors["dm"]` by every `open_dm`;
    `expired` response_urls answer as Slack does after 30 minutes."""

    responses: list[tuple[str, SlackMessage]] = field(default_factory=list)
    posts: list[tuple[str, SlackMessage]] = field(default_factory=list)
    replies: dict[tuple[str, str], list[SlackMessage]] = field(default_factory=dict)
    """Thread replies by (channel, parent ts), in order; they are not in `posts` (top-level messages only)."""
    updates: list[tuple[str, str, SlackMessage]] = field(default_factory=list)
    respond_errors: list[NotifierError] = field(default_factory=list)
    post_errors: dict[str, NotifierError] = field(default_factory=dict)
    expired: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    """response_urls nothing listens at any more (a local `slashops send` that exited): connection refused."""
    _uses: Counter[str] = field(default_factory=Counter)
    _posted: dict[tuple[str, str], SlackMessage] = field(default_factory=dict)

    def respond(self, response_url: str, message: SlackMessage) -> None:
        if self.respond_errors:
            raise self.respond_errors.pop(0)
        if response_url in self.closed:
            raise ResponseUrlRefusedError("nothing listens at the response_url (connection refused)")
        if response_url in self.expired:
            raise ResponseUrlUnusableError("response_url answered 404 expired_url")
        if self._uses[response_url] >= MAX_USES:
            raise ResponseUrlUnusableError("response_url answered 404 used_url")
        self._uses[response_url] += 1
        self.responses.append((response_url, message))

    def post(self, channel: str, message: SlackMessage, *, thread_ts: str = "") -> str:
        if channel in self.post_errors:
            raise self.post_errors[channel]
        if thread_ts:
            if (channel, thread_ts) not in self._posted:
                raise SlackRejectedError("chat_postMessage: 200 thread_not_found")
            replies = self.replies.setdefault((channel, thread_ts), [])
            replies.append(message)
            return f"{thread_ts}{len(replies):03d}"
        self.posts.append((channel, message))
        ts = f"1764331200.{len(self.posts):06d}"
        self._posted[(channel, ts)] = message
        return ts

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        if "update" in self.post_errors:
            raise self.post_errors.pop("update")
        if (channel, ts) not in self._posted:
            raise SlackRejectedError("chat_update: 200 message_not_found")
        self._posted[(channel, ts)] = message
        self.updates.append((channel, ts, message))

    def open_dm(self, user_id: str) -> str:
        if "dm" in self.post_errors:
            raise self.post_errors["dm"]
        return "D" + user_id

    def shown(self, channel: str) -> list[str]:
        """The texts of the messages in `channel` as they read now (after updates)."""
        return [message.text for (where, _), message in self._posted.items() if where == channel]

    def message(self, channel: str, ts: str) -> SlackMessage:
        """A top-level message as it reads now (after updates)."""
        return self._posted[(channel, ts)]

    def thread(self, channel: str, ts: str) -> list[str]:
        """The texts of the replies in the thread of (`channel`, `ts`), in order."""
        return [message.text for message in self.replies.get((channel, ts), [])]

    def responded(self, response_url: str) -> list[str]:
        return [message.text for url, message in self.responses if url == response_url]
