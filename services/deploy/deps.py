"""The deploy service's composition root: its settings, its dependencies, and the one place real adapters are built.

Nothing happens at import: `deploy_deps()` reads the environment and builds the adapters on the first message
(their SDK clients later still, on first use). Tests build `DeployDeps` from the fakes instead.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from services.deploy.models import Delivery
from services.deploy.ports import ClaimStore, FollowScheduler, JenkinsPort
from shared.aws.secrets import read_secret
from shared.config.location import ConfigLocation
from shared.config.port import ConfigPort
from shared.errors import ConfigurationError
from shared.events.models import CommandRequested
from shared.events.publisher import EventPublisher
from shared.events.reporter import Reporter
from shared.locks.port import LockStore
from shared.slack.bot import SlackBot
from shared.slack.groups import GroupDirectory
from shared.slack.names import NameDirectory

SOURCE = "slashops.deploy"

type CommandUseCase = Callable[[CommandRequested, DeployDeps, Delivery], None]
"""A use case for one command routed here: the request, the dependencies, which delivery of it this is."""


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


def _registered_commands() -> Mapping[str, CommandUseCase]:
    """Imported on first use: the registry imports the use cases, and they import this module."""
    from services.deploy.consumer import COMMANDS

    return COMMANDS


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
    commands: Mapping[str, CommandUseCase] = field(default_factory=_registered_commands)
    """The consumer's registry, command name -> use case: `consumer.COMMANDS` unless a test passes its own."""

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
            event_bus=env.get("SLASHOPS_EVENT_BUS", "slashops"),
            table=env.get("SLASHOPS_DEPLOY_TABLE", "slashops-deploy"),
            queue_url=env.get("SLASHOPS_DEPLOY_QUEUE_URL", ""),
            lock_table=env.get("SLASHOPS_LOCK_TABLE") or "slashops-locks",
            config=ConfigLocation.from_env(env),
            jenkins_url=env.get("JENKINS_URL") or None,
            jenkins_user=env.get("JENKINS_USER") or None,
            jenkins_token=env.get("JENKINS_API_TOKEN") or None,
            jenkins_secret_id=env.get("JENKINS_SECRET_ID") or None,
            jenkins_timeout=float(env.get("SLASHOPS_JENKINS_TIMEOUT", "10")),
            service=DeploySettings(
                lease_seconds=int(env.get("SLASHOPS_DEPLOY_LEASE_SECONDS", defaults.lease_seconds)),
                max_trigger_attempts=int(env.get("SLASHOPS_DEPLOY_MAX_ATTEMPTS", defaults.max_trigger_attempts)),
                first_follow_delay=int(env.get("SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY", defaults.first_follow_delay)),
                follow_delay=int(env.get("SLASHOPS_DEPLOY_FOLLOW_DELAY", defaults.follow_delay)),
                max_receive_count=int(env.get("SLASHOPS_DEPLOY_MAX_RECEIVE_COUNT") or defaults.max_receive_count),
            ),
            slack=SlackBot.from_env(env),
        )


@cache
def deploy_deps() -> DeployDeps:
    return deps_from(DeployEnv.from_env())


def deps_from(env: DeployEnv) -> DeployDeps:
    """The real adapters (imported here, so a use case's import of `DeployDeps` pulls in no SDK)."""
    from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
    from services.deploy.adapters.python_jenkins import PythonJenkinsAdapter
    from services.deploy.adapters.sqs_scheduler import SqsFollowScheduler
    from shared.aws.eventbridge import EventBridgePublisher
    from shared.config.source import cached_config, groups_ttl, names_ttl
    from shared.locks.dynamodb import DynamoDbLockStore
    from shared.slack.sdk_groups import group_directory, name_directory

    if not env.queue_url:
        raise ConfigurationError("SLASHOPS_DEPLOY_QUEUE_URL is not set: builds could not be followed")
    config = cached_config(env.config)
    return DeployDeps(
        jenkins=PythonJenkinsAdapter(_jenkins_url(env), lambda: jenkins_credentials(env), timeout=env.jenkins_timeout),
        store=DynamoClaimStore(env.table),
        scheduler=SqsFollowScheduler(env.queue_url),
        publisher=EventBridgePublisher(env.event_bus, SOURCE),
        config=config,
        groups=group_directory(
            env.slack,
            ttl=lambda: groups_ttl(config),
            timeout=5,
        ),
        names=name_directory(env.slack, ttl=lambda: names_ttl(config), timeout=5),
        settings=env.service,
        locks=DynamoDbLockStore(env.lock_table, read_timeout=5.0),
    )


def jenkins_credentials(env: DeployEnv) -> tuple[str, str]:
    """`JENKINS_USER`/`JENKINS_API_TOKEN` locally; the `JENKINS_SECRET_ID` secret (JSON `user`, `api_token`) in AWS."""
    if env.jenkins_user and env.jenkins_token:
        return env.jenkins_user, env.jenkins_token
    secret = _secret(env)
    user, token = secret.get("user"), secret.get("api_token")
    if not user or not token:
        raise ConfigurationError(f"secret {env.jenkins_secret_id!r} needs string keys 'user' and 'api_token'")
    return str(user), str(token)


def _jenkins_url(env: DeployEnv) -> str:
    url = env.jenkins_url or (str(_secret(env).get("url") or "") if env.jenkins_secret_id else "")
    if not url:
        raise ConfigurationError("no Jenkins URL (JENKINS_URL, or 'url' in the JENKINS_SECRET_ID secret)")
    return url


def _secret(env: DeployEnv) -> dict[str, object]:
    if not env.jenkins_secret_id:
        raise ConfigurationError("no Jenkins credentials (JENKINS_USER/JENKINS_API_TOKEN or JENKINS_SECRET_ID)")
    try:
        data = json.loads(read_secret(env.jenkins_secret_id, what="Jenkins secret"))
    except json.JSONDecodeError as error:
        raise ConfigurationError("the Jenkins secret must be a JSON object") from error
    if not isinstance(data, dict):
        raise ConfigurationError("the Jenkins secret must be a JSON object")
    return data
