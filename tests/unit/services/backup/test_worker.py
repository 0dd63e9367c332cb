"""The worker's message handling with fakes: what reaches the user when nothing real runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from services.backup.connections import Database, MisconfiguredDatabase, databases_from_env, parse_url
from services.backup.jobs import JobSettings
from services.backup.models import Manifest
from services.backup.ports import QueueMessage
from services.backup.worker import Disposition, WorkerDeps, handle_message
from shared.commands.catalog import CATALOG
from shared.config.port import ConfigPort
from shared.config.source import CachedConfig
from shared.errors import ConfigurationError
from shared.events.models import CommandAccepted, CommandFailed, CommandRejected, CommandSucceeded
from tests.support.backup import FakeQueue, open_config, request_message
from tests.support.fakes import RecordingPublisher, StaticConfig

ORDERS = parse_url("orders", "postgresql://postgres@127.0.0.1/orders")


class EmptyStore:
    """A store with no backups and a free lock; anything else would be a bug in these tests."""

    def __init__(self, manifests: list[Manifest] | None = None, present: bool = True) -> None:
        self._manifests = manifests or []
        self._present = present
        self.locks: list[str] = []

    def manifests(self, database: str) -> list[Manifest]:
        return [m for m in self._manifests if m.database == database]

    def manifest(self, database: str, backup_id: str) -> Manifest | None:
        return next((m for m in self.manifests(database) if m.backup_id == backup_id), None)

    def exists(self, key: str) -> bool:
        return self._present

    def acquire_lock(self, database: str, owner: str) -> None:
        self.locks.append(database)
        return None

    def release_lock(self, database: str) -> None:
        pass


def _deps(
    publisher: RecordingPublisher,
    *,
    config: ConfigPort | None = None,
    store: EmptyStore | None = None,
    databases: dict[str, Database | MisconfiguredDatabase] | None = None,
) -> WorkerDeps:
    return WorkerDeps(
        queue=FakeQueue(),
        store=store or EmptyStore(),  # type: ignore[arg-type]
        publisher=publisher,
        databases=databases if databases is not None else {"orders": ORDERS},
        settings=JobSettings(),
        config=config or open_config(),
    )


def _manifest(backup_id: str = "orders-20261128T101500Z-abc123") -> Manifest:
    at = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)
    return Manifest(
        backup_id=backup_id,
        database="orders",
        engine="postgresql",
        server_version="15.4",
        object_key=f"backups/orders/{backup_id}.dump",
        size_bytes=2048,
        sha256="0" * 64,
        created_by="example.user",
        command_id="abc123abc123",
        started_at=at,
        finished_at=at,
    )


def test_malformed_messages_are_dropped_without_a_result() -> None:
    publisher = RecordingPublisher()
    for body in ("not json", "[]", '{"detail": {"event": "Nope"}}'):
        assert handle_message(QueueMessage(body, "r"), _deps(publisher), threading.Event()) is Disposition.DONE
    assert publisher.events == []


def test_restoring_an_unknown_backup_is_rejected_with_a_pointer_to_the_list() -> None:
    publisher = RecordingPublisher()
    message = request_message("restore", db="orders", confirm="orders", **{"from": "orders-x"})
    handle_message(message, _deps(publisher), threading.Event())
    [rejected] = [e for e in publisher.events if isinstance(e, CommandRejected)]
    assert "no backup `orders-x`" in rejected.reason and "/ops backups --db orders" in rejected.hint


def test_an_unknown_database_is_rejected() -> None:
    publisher = RecordingPublisher()
    handle_message(request_message("backups", db="nope"), _deps(publisher), threading.Event())
    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected) and "`orders`" in rejected.hint


# --- access is re-checked against the rules as they are now ---------------------------------------------------

RULES = """
access:
  - {command: backup, users: [U0ABC], channels: [ops]}
  - {command: restore, users: [UADMIN]}
"""


def test_a_caller_the_current_rules_do_not_admit_is_rejected_and_nothing_runs() -> None:
    publisher, store = RecordingPublisher(), EmptyStore([_manifest()])
    deps = _deps(publisher, config=StaticConfig.from_text(RULES), store=store)
    restore = request_message("restore", db="orders", confirm="orders", **{"from": _manifest().backup_id})

    assert handle_message(restore, deps, threading.Event()) is Disposition.DONE

    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason == (
        "<@U0ABC> is not allowed to run `restore` in this channel (the access rules changed, or the request did "
        "not come from the ingress). Nothing was run."
    )
    assert store.locks == []


def test_an_allowed_user_in_another_channel_is_rejected() -> None:
    publisher, store = RecordingPublisher(), EmptyStore()
    deps = _deps(publisher, config=StaticConfig.from_text(RULES), store=store)

    handle_message(request_message("backup", channel_id="CGENERAL", db="orders"), deps, threading.Event())

    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected) and "not allowed to run `backup`" in rejected.reason
    assert store.locks == []


def test_a_broken_configuration_refuses_every_command() -> None:
    publisher, store = RecordingPublisher(), EmptyStore()
    broken = StaticConfig(ConfigurationError("config.yaml: line 3: mapping values are not allowed here"))
    deps = _deps(publisher, config=broken, store=store)

    assert handle_message(request_message("backup", db="orders"), deps, threading.Event()) is Disposition.DONE

    [failed] = publisher.events
    assert isinstance(failed, CommandFailed)
    assert "slashops is misconfigured" in failed.reason and "logs" in failed.reason
    assert "config.yaml" not in failed.reason  # file names and parameter names are for the admins' logs only
    assert store.locks == []


class EditableText:
    """A configuration file being edited: `text` is what the next read returns."""

    origin = "config.yaml"

    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> str:
        return self.text


def test_fixing_the_configuration_heals_the_worker_on_the_next_read() -> None:
    now = [0.0]
    text = EditableText("access: [ {command: backup")  # unparsable
    config = CachedConfig(text, known_commands=CATALOG.names(), ttl_seconds=60, clock=lambda: now[0])
    publisher = RecordingPublisher()
    deps = _deps(publisher, config=config)

    handle_message(request_message("backups", db="orders"), deps, threading.Event())
    text.text = RULES.replace("command: backup,", "command: backups,")
    now[0] = 61.0
    handle_message(request_message("backups", db="orders"), deps, threading.Event())

    failed, *rest = publisher.events
    assert isinstance(failed, CommandFailed) and "misconfigured" in failed.reason
    assert [type(e) for e in rest] == [CommandAccepted, CommandSucceeded]


# --- a bad SLASHOPS_DB_* URL takes only its own database down ----------------------------------------------------


def test_a_bad_url_makes_only_its_database_unavailable_and_never_shows_the_password() -> None:
    databases = databases_from_env(
        {
            "SLASHOPS_DB_ORDERS": "postgresql://postgres@127.0.0.1/orders",
            "SLASHOPS_DB_BILLING": "postgresql://app:hunter2@db.internal:notaport/billing",
            "SLASHOPS_DB_LEGACY": "oracle://app:hunter2@db.internal/legacy",
        }
    )
    publisher = RecordingPublisher()
    deps = _deps(publisher, databases=databases)

    handle_message(request_message("backup", db="billing"), deps, threading.Event())
    handle_message(request_message("backup", db="legacy"), deps, threading.Event())
    handle_message(request_message("backups", db="orders"), deps, threading.Event())

    billing, legacy, accepted, listed = publisher.events
    assert isinstance(billing, CommandFailed) and isinstance(legacy, CommandFailed)
    assert billing.reason.startswith("Database `billing` is misconfigured (SLASHOPS_DB_BILLING: invalid port)")
    assert "SLASHOPS_DB_LEGACY: unsupported scheme 'oracle'" in legacy.reason and "admins" in legacy.reason
    assert isinstance(accepted, CommandAccepted) and isinstance(listed, CommandSucceeded)
    assert all("hunter2" not in repr(event) for event in publisher.events)
    assert "hunter2" not in repr(databases["billing"]) + repr(databases["legacy"])


def test_the_configuration_narrows_the_databases_on_each_command() -> None:
    publisher = RecordingPublisher()
    config = StaticConfig.from_text('{"access": [{"command": "*"}], "backup": {"databases": ["billing"]}}')
    deps = _deps(publisher, config=config)

    handle_message(request_message("backups", db="orders"), deps, threading.Event())
    handle_message(request_message("backups", db="billing"), deps, threading.Event())

    orders, billing = publisher.events
    assert isinstance(orders, CommandRejected) and "`orders` is not a database" in orders.reason
    assert isinstance(billing, CommandFailed) and "has no SLASHOPS_DB_BILLING" in billing.reason


# --- a listed backup whose data was deleted -------------------------------------------------------------------


def test_restoring_a_backup_whose_data_is_gone_fails_clearly_before_anything_starts() -> None:
    publisher, manifest = RecordingPublisher(), _manifest()
    deps = _deps(publisher, store=EmptyStore([manifest], present=False))
    restore = request_message("restore", db="orders", confirm="orders", **{"from": manifest.backup_id})

    handle_message(restore, deps, threading.Event())

    [failed] = publisher.events
    assert isinstance(failed, CommandFailed) and not failed.retryable
    assert failed.reason.startswith(
        f"Backup `{manifest.backup_id}` is listed but its data is missing from the bucket (deleted?); nothing was "
        "restored — the database is unchanged."
    )
    assert "/ops backups --db orders" in failed.reason and "manifests/orders/" in failed.reason


def test_the_listing_marks_a_backup_whose_data_is_gone() -> None:
    publisher = RecordingPublisher()
    handle_message(
        request_message("backups", db="orders"),
        _deps(publisher, store=EmptyStore([_manifest()], present=False)),
        threading.Event(),
    )
    assert "data missing" in publisher.events[-1].summary  # type: ignore[attr-defined]
