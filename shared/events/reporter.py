"""The one way a consumer tells the user how a command goes: typed result events, the source stated once.

    reporter = Reporter(publisher, "slashops.backup")          # once per unit (its composition root)
    report = reporter.about_request(request)                   # once per command
    report.accepted("Backing up `orders`…"); report.succeeded("Backed up `orders`.", duration=12.5)
    report = report.doing("restoring `orders` from backup `b1`")  # announced in the channel (in-channel commands)

Every event carries the command id, the command's name and where to reply, so the notifier can record it in the
ledger and post it where the command was typed. Publishing raises the publisher's `PublishError`: the caller's
SQS message is then delivered again, and the event published again (the notifier de-duplicates it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import NotRequired, TypedDict

from shared.events.models import (
    CommandAccepted,
    CommandCancelled,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandRequested,
    CommandSucceeded,
    Link,
    ReplyTarget,
    ResultEvent,
)
from shared.events.publisher import EventPublisher

logger = logging.getLogger(__name__)


class _About(TypedDict):
    command_id: str
    command: str
    reply_to: ReplyTarget
    source: str
    activity: NotRequired[str]


@dataclass(frozen=True)
class Reporter:
    """A unit's reporter: its publisher and its event source (`slashops.<unit>`, what the bus rules match)."""

    publisher: EventPublisher
    source: str

    def about(self, command_id: str, command: str, reply_to: ReplyTarget) -> CommandReporter:
        return CommandReporter(self, command_id, command, reply_to)

    def about_request(self, request: CommandRequested) -> CommandReporter:
        return self.about(request.command_id, request.command, request.reply_to)


@dataclass(frozen=True)
class CommandReporter:
    """Publishes result events about one command; one method per event type."""

    reporter: Reporter
    command_id: str
    command: str
    reply_to: ReplyTarget
    activity: str = ""
    """Carried by every event it publishes (`ResultEvent.activity`): set with `doing`."""

    def doing(self, activity: str) -> CommandReporter:
        """The same reporter, its events saying what the command does (an in-channel command is then announced
        in the channel, its progress threaded under that message)."""
        return replace(self, activity=activity)

    def accepted(self, message: str) -> None:
        self._publish(CommandAccepted(**self._about(), message=message))

    def progress(self, message: str, link: Link | None = None) -> None:
        self._publish(CommandProgress(**self._about(), message=message, link=link))

    def succeeded(
        self, summary: str, *, links: tuple[Link, ...] = (), duration: float | None = None, output: str = ""
    ) -> None:
        self._publish(
            CommandSucceeded(**self._about(), summary=summary, links=links, duration_seconds=duration, output=output)
        )

    def failed(
        self,
        reason: str,
        *,
        retryable: bool = False,
        links: tuple[Link, ...] = (),
        duration: float | None = None,
        output: str = "",
    ) -> None:
        self._publish(
            CommandFailed(
                **self._about(),
                reason=reason,
                retryable=retryable,
                links=links,
                duration_seconds=duration,
                output=output,
            )
        )

    def cancelled(
        self,
        reason: str,
        *,
        by: str = "",
        links: tuple[Link, ...] = (),
        duration: float | None = None,
        output: str = "",
    ) -> None:
        """Stopped on purpose (`by`: the Slack user id who asked, empty if unknown): cancelled, not failed."""
        self._publish(
            CommandCancelled(
                **self._about(),
                reason=reason,
                cancelled_by=by,
                links=links,
                duration_seconds=duration,
                output=output,
            )
        )

    def rejected(self, reason: str, hint: str = "") -> None:
        self._publish(CommandRejected(**self._about(), reason=reason, hint=hint))

    def _about(self) -> _About:
        about: _About = {
            "command_id": self.command_id,
            "command": self.command,
            "reply_to": self.reply_to,
            "source": self.reporter.source,
        }
        if self.activity:
            about["activity"] = self.activity
        return about

    def _publish(self, event: ResultEvent) -> None:
        logger.info("publishing %s for %s", event.detail_type, self.command_id)
        self.reporter.publisher.publish([event])
