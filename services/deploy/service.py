"""The deploy service's dependencies, settings and event reporting, shared by its use cases."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from services.deploy.models import ClaimRecord
from services.deploy.ports import ClaimStore, FollowScheduler, JenkinsPort
from shared.config.port import ConfigPort
from shared.events.models import (
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandSucceeded,
    Link,
    ReplyTarget,
    ResultEvent,
)
from shared.events.publisher import EventPublisher

SOURCE = "slashops.deploy"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeploySettings:
    """Timings and limits; see the README for how they relate to the queue's visibility timeout."""

    lease_seconds: int = 90
    max_trigger_attempts: int = 5
    first_follow_delay: int = 5
    follow_delay: int = 15
    max_follow_failures: int = 5
    max_follow_seconds: int = 6 * 3600
    console_lines: int = 30
    record_ttl_days: int = 30
    max_request_age_seconds: int = 24 * 3600


@dataclass
class DeployDeps:
    jenkins: JenkinsPort
    store: ClaimStore
    scheduler: FollowScheduler
    publisher: EventPublisher
    config: ConfigPort
    settings: DeploySettings = field(default_factory=DeploySettings)
    clock: Callable[[], float] = time.time
    new_token: Callable[[], str] = lambda: uuid.uuid4().hex

    def now(self) -> int:
        return int(self.clock())


@dataclass(frozen=True)
class Reporter:
    """Publishes result events about one command to whoever asked for it."""

    publisher: EventPublisher
    command_id: str
    command: str
    reply_to: ReplyTarget

    @classmethod
    def for_record(cls, publisher: EventPublisher, record: ClaimRecord) -> Reporter:
        return cls(publisher, record.command_id, "deploy", record.reply_to)

    def _publish(self, event: ResultEvent) -> None:
        logger.info("publishing %s for %s", event.detail_type, self.command_id)
        self.publisher.publish([event])

    def _base(self) -> dict[str, object]:
        return {"command_id": self.command_id, "command": self.command, "reply_to": self.reply_to, "source": SOURCE}

    def progress(self, message: str, link: Link | None = None) -> None:
        self._publish(CommandProgress.model_validate({**self._base(), "message": message, "link": link}))

    def rejected(self, reason: str, hint: str = "") -> None:
        self._publish(CommandRejected.model_validate({**self._base(), "reason": reason, "hint": hint}))

    def succeeded(self, summary: str, *, links: tuple[Link, ...] = (), duration: float | None = None) -> None:
        fields = {"summary": summary, "links": links, "duration_seconds": duration}
        self._publish(CommandSucceeded.model_validate({**self._base(), **fields}))

    def failed(
        self,
        reason: str,
        *,
        retryable: bool = False,
        links: tuple[Link, ...] = (),
        duration: float | None = None,
        output: str = "",
    ) -> None:
        fields = {"reason": reason, "retryable": retryable, "links": links, "duration_seconds": duration}
        self._publish(CommandFailed.model_validate({**self._base(), **fields, "output": output}))


def build_link(number: int | None, url: str | None) -> tuple[Link, ...]:
    return (Link(label=f"Build #{number}", url=url),) if number and url else ()
