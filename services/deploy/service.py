"""The deploy service's dependencies, settings and event reporting, shared by its use cases."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from services.deploy.ports import ClaimStore, FollowScheduler, JenkinsPort
from shared.config.port import ConfigPort
from shared.events.models import Link
from shared.events.publisher import EventPublisher
from shared.events.reporter import Reporter

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

    @property
    def reporter(self) -> Reporter:
        """Result events about deploys, from `slashops.deploy`."""
        return Reporter(self.publisher, SOURCE)


def build_link(number: int | None, url: str | None) -> tuple[Link, ...]:
    return (Link(label=f"Build #{number}", url=url),) if number and url else ()
