"""The ingress' composition root: the one place its real adapters are built, from the environment.

Nothing happens at import (import time is the Lambda cold start): `ingress_deps()` reads the settings and builds
the adapters on the first request, their SDK clients later still. `app.py` takes its defaults from here; nothing
else in the ingress imports this module (the wiring points one way).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from chalicelib.deps import SSM_LIMITS, IngressDeps, IngressSettings
from shared.aws.secrets import cached_secret, read_secret
from shared.errors import ConfigurationError
from shared.events.requested import INGRESS_SOURCE

if TYPE_CHECKING:
    from chalicelib.expiring import SweepDeps
    from shared.backups import BackupCatalog
    from shared.config.port import ConfigPort
    from shared.ledger.models import LedgerEntry
    from shared.ledger.port import LedgerReader
    from shared.slack.groups import GroupDirectory
    from shared.slack.names import NameDirectory


@cache
def settings() -> IngressSettings:
    return IngressSettings.from_env()


@cache
def ingress_deps() -> IngressDeps:
    # The adapters are imported here, on the first request, not at the cold start's import of the app.
    from shared.aws.approval_store import DynamoDbApprovalStore
    from shared.aws.eventbridge import EventBridgePublisher
    from shared.aws.replay_guard import DynamoDbReplayGuard
    from shared.locks.dynamodb import DynamoDbLockStore
    from shared.slack.sdk_home import slack_home
    from shared.slack.sdk_views import slack_views

    current = settings()
    config = config_provider(current)
    return IngressDeps(
        config=config,
        # Short timeouts: the request's deadline (chalicelib.budget) bounds every attempt and wait on top of them;
        # an attempt they bound within it (0.25 + 2 x 1 s) runs without a thread (`run_within`'s `bounded_by`).
        publisher=EventBridgePublisher(current.event_bus, INGRESS_SOURCE, connect_timeout=0.25, read_timeout=1.0),
        replays=DynamoDbReplayGuard(current.replay_table),
        ledger=LedgerOnFirstRead(lambda: dynamodb_ledger(current.ledger_table)),
        groups=groups_provider(current, config),
        names=names_provider(current, config),
        locks=DynamoDbLockStore(current.lock_table),
        approvals=DynamoDbApprovalStore(current.approval_table),
        backups=backup_catalog(current.backup_bucket),
        home=slack_home(current.slack),
        views=slack_views(current.slack),
    )


SERVICE_MODELS = ("events", "dynamodb", "ssm", "secretsmanager", "s3")
"""The AWS services the ingress' adapters call: their models are parsed before a SnapStart snapshot."""


def warm() -> None:
    """Before a SnapStart snapshot: import and build what a request needs, without I/O (no credentials, secret,
    configuration or connection: those would be shared by every environment restored from the snapshot)."""
    from shared.aws.clients import load_service_models

    load_service_models(SERVICE_MODELS)
    ingress_deps()  # imports every adapter; their clients are built on first use, after the restore


def forget() -> None:
    """After each SnapStart restore: drop what must not be shared between restored environments. The dependencies
    (their boto3 and slack-sdk clients and connections, the configuration and Slack directory caches with their
    ages) are built again on the next request, from the modules and service models `warm` left loaded; secrets are
    read again; boto3 resolves credentials again."""
    from shared.aws.clients import fresh_default_session
    from shared.aws.secrets import forget_secrets

    ingress_deps.cache_clear()
    sweeper_deps.cache_clear()
    settings.cache_clear()
    forget_secrets()
    fresh_default_session()


@cache
def sweeper_deps() -> SweepDeps:
    """The approval sweeper's (`chalicelib.sweeper`, its own Lambda): the approval table and the bus, nothing else."""
    from chalicelib.expiring import SweepDeps
    from shared.aws.approval_store import DynamoDbApprovalStore
    from shared.aws.eventbridge import EventBridgePublisher
    from shared.aws.tables import APPROVALS
    from shared.settings import event_bus

    return SweepDeps(
        approvals=DynamoDbApprovalStore(APPROVALS.name_in(os.environ)),
        publisher=EventBridgePublisher(event_bus(os.environ), INGRESS_SOURCE),
    )


def backup_catalog(bucket: str | None) -> BackupCatalog | None:
    """S3, when the stack names the backup bucket (`BackupBucketName`); else the backup worker checks alone."""
    if not bucket:
        return None
    from shared.aws.backup_catalog import S3BackupCatalog

    return S3BackupCatalog(bucket)


def dynamodb_ledger(table: str) -> LedgerReader:
    from shared.ledger.dynamodb import DynamoDbLedger

    # Tight timeouts and a bounded read: `status`/`history` must answer within Slack's 3 seconds.
    return DynamoDbLedger(table, read_timeout=1.0, attempts=2, max_read=300)  # two tries, as before


class LedgerOnFirstRead:
    """A `LedgerReader` built on its first read: only `status`, `history` and a button's look-up read the ledger, and
    the DynamoDB ledger's module imports every event's and ledger entry's model (a command's cold start needs none)."""

    def __init__(self, build: Callable[[], LedgerReader]) -> None:
        self._build = build
        self._reader: LedgerReader | None = None

    def _ledger(self) -> LedgerReader:
        if self._reader is None:
            self._reader = self._build()
        return self._reader

    def get(self, command_id: str) -> LedgerEntry | None:
        return self._ledger().get(command_id)

    def iter_recent(
        self, *, command: str | None = None, user: str | None = None, refused: bool = False
    ) -> Iterator[LedgerEntry]:
        return self._ledger().iter_recent(command=command, user=user, refused=refused)


def groups_provider(current: IngressSettings, config: ConfigPort) -> GroupDirectory:
    """slack-sdk behind a cache whose TTL is the configuration's `slack.groups_ttl`; 1 s per call, no retries:
    the request's deadline bounds every ask on top of that (`shared.slack.groups.caller_groups`)."""
    from shared.config.source import groups_ttl
    from shared.slack.sdk_groups import group_directory

    return group_directory(
        current.slack,
        ttl=lambda: groups_ttl(config),
        timeout=1,
    )


def names_provider(current: IngressSettings, config: ConfigPort) -> NameDirectory:
    """slack-sdk behind a cache whose TTL is the configuration's `slack.names_ttl` (as `groups_provider`)."""
    from shared.config.source import names_ttl
    from shared.slack.sdk_groups import name_directory

    return name_directory(current.slack, ttl=lambda: names_ttl(config), timeout=1)


def config_provider(current: IngressSettings) -> ConfigPort:
    from shared.config.source import cached_config

    return cached_config(current.config, ssm_limits=SSM_LIMITS)


@dataclass(frozen=True)
class SigningSecret:
    """The Slack signing secret, read when the first request arrives (`signing_secret_from`)."""

    settings: Callable[[], IngressSettings] = settings

    def __call__(self) -> str:
        return signing_secret_from(self.settings())

    def cached(self) -> str | None:
        """The secret when it is known without I/O (from the environment, or read from Secrets Manager within the
        cache's age), else None: the handler then reads it within the request's deadline."""
        current = self.settings()
        if current.signing_secret:
            return current.signing_secret
        if current.signing_secret_id:
            return cached_secret(current.signing_secret_id)
        return None


signing_secret = SigningSecret()


def signing_secret_from(current: IngressSettings) -> str:
    """From `SLACK_SIGNING_SECRET` locally; from Secrets Manager (cached by Powertools) in AWS."""
    if current.signing_secret:
        return current.signing_secret
    if current.signing_secret_id:
        return read_secret(current.signing_secret_id, what="signing secret")
    raise ConfigurationError("no Slack signing secret (SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_ID)")
