"""Settings come from the environment; only a missing queue or bucket stops the worker from starting."""

from __future__ import annotations

import pytest

from services.backup.bootstrap import build_deps
from services.backup.connections import MisconfiguredDatabase
from services.backup.deps import BackupSettings
from shared.errors import ConfigurationError


def test_settings_from_the_environment_with_their_defaults() -> None:
    settings = BackupSettings.from_env(
        {
            "SLASHOPS_BACKUP_QUEUE_URL": "https://sqs/q",
            "SLASHOPS_BACKUP_BUCKET": "b",
            "SLASHOPS_BACKUP_PART_MIB": "16",
            "SLASHOPS_DB_ORDERS": "postgresql://postgres@127.0.0.1/orders",
            "SLASHOPS_DB_BAD": "oracle://x/y",
        }
    )
    assert (settings.queue_url, settings.bucket, settings.event_bus) == ("https://sqs/q", "b", "slashops")
    assert settings.part_size == 16 * 1024 * 1024 and settings.poll_seconds == 10
    assert settings.visibility_timeout == 120 and settings.heartbeat_seconds == 30.0
    assert sorted(settings.databases) == ["bad", "orders"]
    assert isinstance(settings.databases["bad"], MisconfiguredDatabase)


def test_without_a_queue_or_a_bucket_the_worker_cannot_start() -> None:
    with pytest.raises(ConfigurationError, match="SLASHOPS_BACKUP_QUEUE_URL and SLASHOPS_BACKUP_BUCKET"):
        build_deps(BackupSettings.from_env({"SLASHOPS_BACKUP_BUCKET": "b"}))


def test_building_the_deps_makes_no_call() -> None:
    """No client, no network, no configuration read until the first message (the clients are built lazily)."""
    deps = build_deps(
        BackupSettings.from_env({"SLASHOPS_BACKUP_QUEUE_URL": "https://sqs/q", "SLASHOPS_BACKUP_BUCKET": "b"})
    )
    assert vars(deps.store).get("_lazy_client") is None and vars(deps.queue).get("_lazy_client") is None
