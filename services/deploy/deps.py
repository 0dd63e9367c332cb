"""The deploy service's settings and the dependencies its use cases receive (`bootstrap.py` builds the real ones).

Use cases import `DeployDeps` for typing only; tests build it from the fakes.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from services.deploy.ports import ClaimStore, FollowScheduler, JenkinsPort
from shared.aws.tables import DEPLOYS, LOCKS
from shared.commands.catalog import CATALOG, Catalog
from shared.config.location import ConfigLocation
from shared.config.port import ConfigPort
from shared.events.publisher import EventPublisher
from shared.events.reporter import Reporter
from shared.locks.port import LockStore
from shared.settings import event_bus, float_setting, int_setting, optional_setting, queue_url_variable, setting
from shared.slack.bot import SlackBot
from shared.slack.groups import GroupDirectory
from shared.slack.names import NameDirectory

SOURCE = "slashops.deploy"
UNIT = "deploy"
"""The `consumer` the catalog routes this service's commands to."""


@dataclass(frozen=True)
class DeploySettings:
    """Timings and limits; see the README for how they relate to the queue's visibility timeout and DLQ."""

    lease_seconds: int = 90
    max_trigger_attempts: int = 5
    first_follow_delay: int = 5
    follow_delay: int = 15
    max_follow_failures: int = 5
    max_follow_seconds: int = 6 * 3600
    console_lines: int = 30
    record_ttl_days: int = 30
    max_request_age_seconds: int = 24 * 3600
    max_receive_count: int = 5
    """The deploy queue's `maxReceiveCount` (infra/bus.yaml `MaxReceiveCount`): the delivery that is the last one."""


@dataclass
class DeployDeps:
    jenkins: JenkinsPort
    store: ClaimStore
    scheduler: FollowScheduler
    publisher: EventPublisher
    config: ConfigPort
    groups: GroupDirectory | None = None
    """Slack's user groups for the access re-checks; None: rules that need a group fail closed."""
    names: NameDirectory | None = None
    """What user and channel names in the rules stand for; None: rules naming names fail closed."""
    locks: LockStore | None = None
    """Deploy locks, checked again before a claim (a deploy queued before the lock landed); None: not checked."""
    settings: DeploySettings = field(default_factory=DeploySettings)
    clock: Callable[[], float] = time.time
    new_token: Callable[[], str] = lambda: uuid.uuid4().hex
    catalog: Catalog = CATALOG
    """Where this service's commands and their use cases are declared (a test may pass its own)."""

    def now(self) -> int:
        return int(self.clock())

    @property
    def reporter(self) -> Reporter:
        """Result events about deploys, from `slashops.deploy`."""
        return Reporter(self.publisher, SOURCE)


@dataclass(frozen=True)
class DeployEnv:
    """The deploy Lambda's environment (see the service README's Settings)."""

    event_bus: str
    table: str
    queue_url: str
    lock_table: str
    config: ConfigLocation
    jenkins_url: str | None
    jenkins_user: str | None
    jenkins_token: str | None
    jenkins_secret_id: str | None
    jenkins_timeout: float
    service: DeploySettings
    slack: SlackBot = SlackBot()
    """The bot, to resolve the Slack user groups access rules name."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeployEnv:
        env = os.environ if env is None else env
        defaults = DeploySettings()
        return cls(
            event_bus=event_bus(env),
            table=DEPLOYS.name_in(env),
            queue_url=setting(env, queue_url_variable("deploy")),
            lock_table=LOCKS.name_in(env),
            config=ConfigLocation.from_env(env),
            jenkins_url=optional_setting(env, "JENKINS_URL"),
            jenkins_user=optional_setting(env, "JENKINS_USER"),
            jenkins_token=optional_setting(env, "JENKINS_API_TOKEN"),
            jenkins_secret_id=optional_setting(env, "JENKINS_SECRET_ID"),
            jenkins_timeout=float_setting(env, "SLASHOPS_JENKINS_TIMEOUT", 10.0),
            service=DeploySettings(
                lease_seconds=int_setting(env, "SLASHOPS_DEPLOY_LEASE_SECONDS", defaults.lease_seconds),
                max_trigger_attempts=int_setting(env, "SLASHOPS_DEPLOY_MAX_ATTEMPTS", defaults.max_trigger_attempts),
                first_follow_delay=int_setting(env, "SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY", defaults.first_follow_delay),
                follow_delay=int_setting(env, "SLASHOPS_DEPLOY_FOLLOW_DELAY", defaults.follow_delay),
                max_receive_count=int_setting(env, "SLASHOPS_DEPLOY_MAX_RECEIVE_COUNT", defaults.max_receive_count),
            ),
            slack=SlackBot.from_env(env),
        )
