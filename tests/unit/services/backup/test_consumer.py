"""The worker's message handling with fakes: what reaches the user when nothing real runs."""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from services.backup.connections import Database, MisconfiguredDatabase, databases_from_env, parse_url
from services.backup.engines import PostgresEngine, ToolCommand
from services.backup.errors import ObjectExists
from services.backup.jobs import JobSettings
from services.backup.models import Manifest, RestoreRecord
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
    """A store with the given backups (their data is `data`), restore records in memory, and a free lock."""

    def __init__(self, manifests: list[Manifest] | None = None, present: bool = True, data: bytes = b"") -> None:
        self._manifests = manifests or []
        self._present = present
        self._data = data
        self.locks: list[str] = []
        self.restores: dict[tuple[str, str], RestoreRecord] = {}
        self.record_failure: Exception | None = None

    def manifests(self, database: str) -> list[Manifest]:
        return [m for m in self._manifests if m.database == database]

    def manifest(self, database: str, backup_id: str) -> Manifest | None:
        return next((m for m in self.manifests(database) if m.backup_id == backup_id), None)

    def exists(self, key: str) -> bool:
        return self._present

    def read(self, key: str, chunk_size: int) -> Iterator[bytes]:
        yield self._data

    def restore_record(self, database: str, command_id: str) -> RestoreRecord | None:
        return self.restores.get((database, command_id))

    def put_restore_record(self, record: RestoreRecord) -> None:
        """Like S3 with `If-None-Match: *`: the first record of a command stays."""
        if self.record_failure is not None:
            raise self.record_failure
        if (record.database, record.command_id) in self.restores:
            raise ObjectExists(f"restores/{record.database}/{record.command_id}.json")
        self.restores[(record.database, record.command_id)] = record

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


def _manifest(backup_id: str = "orders-20261128T101500Z-abc123", sha256: str = "0" * 64) -> Manifest:
    at = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)
    return Manifest(
        backup_id=backup_id,
        database="orders",
        engine="postgresql",
        server_version="15.4",
        object_key=f"backups/orders/{backup_id}.dump",
        size_bytes=2048,
        sha256=sha256,
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


# --- a restore runs at most once per command id ---------------------------------------------------------------


class CountingRestore(PostgresEngine):
    """`pg_restore` stand-in: reads the whole archive from stdin, then appends one line to `log` per restore."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def restore(self, db: Database) -> ToolCommand:
        script = "import sys; sys.stdin.buffer.read(); open(sys.argv[1], 'a').write('restored\\n')"
        return ToolCommand([sys.executable, "-c", script, str(self.log)])


def _restoring(tmp_path: Path) -> tuple[WorkerDeps, RecordingPublisher, EmptyStore, Path]:
    data = b"an archive"
    manifest = _manifest(sha256=hashlib.sha256(data).hexdigest())
    publisher, store, log = RecordingPublisher(), EmptyStore([manifest], data=data), tmp_path / "restores.log"
    deps = _deps(publisher, store=store)
    deps.engines = {"postgresql": CountingRestore(log)}
    return deps, publisher, store, log


def _restores(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_the_same_restore_delivered_twice_restores_once_and_says_so(tmp_path: Path) -> None:
    deps, publisher, store, log = _restoring(tmp_path)
    restore = request_message("restore", db="orders", confirm="orders", **{"from": _manifest().backup_id})

    assert handle_message(restore, deps, threading.Event()) is Disposition.DONE
    assert handle_message(restore, deps, threading.Event()) is Disposition.DONE  # SQS delivered it again

    assert _restores(log) == 1
    first, second = [e for e in publisher.events if isinstance(e, CommandSucceeded)]
    assert first.summary.startswith("Restored `orders` from `orders-20261128T101500Z-abc123`")
    [record] = store.restores.values()
    assert second.summary == (
        f"`orders` was already restored from `orders-20261128T101500Z-abc123` by this command at "
        f"{record.finished_at:%Y-%m-%d %H:%M} UTC; not restored again."
    )
    assert second.duration_seconds is None
    assert record.backup_id == _manifest().backup_id and record.restored_by == "example.user"


def test_another_restore_command_of_the_same_backup_restores_again(tmp_path: Path) -> None:
    deps, publisher, store, log = _restoring(tmp_path)
    arguments = {"db": "orders", "confirm": "orders", "from": _manifest().backup_id}

    handle_message(request_message("restore", **arguments), deps, threading.Event())
    handle_message(request_message("restore", **arguments), deps, threading.Event())  # a new command id

    assert _restores(log) == 2 and len(store.restores) == 2
    assert all(e.summary.startswith("Restored `orders`") for e in publisher.events if isinstance(e, CommandSucceeded))


def test_a_restore_whose_record_cannot_be_written_is_still_reported_as_done(tmp_path: Path) -> None:
    deps, publisher, store, log = _restoring(tmp_path)
    store.record_failure = RuntimeError("S3 unreachable")
    restore = request_message("restore", db="orders", confirm="orders", **{"from": _manifest().backup_id})

    handle_message(restore, deps, threading.Event())

    assert _restores(log) == 1
    [succeeded] = [e for e in publisher.events if isinstance(e, CommandSucceeded)]
    assert succeeded.summary.startswith("Restored `orders` from `orders-20261128T101500Z-abc123`")
    assert "could not be recorded" in succeeded.summary and "restore again" in succeeded.summary
    assert not [e for e in publisher.events if isinstance(e, CommandFailed)]


class HeldStore(EmptyStore):
    """The database's lock is held by `holder` (as S3BackupStore reports it: "<command> <id> on <worker>")."""

    def __init__(self, holder: str, manifests: list[Manifest]) -> None:
        super().__init__(manifests)
        self.holder = holder

    def acquire_lock(self, database: str, owner: str) -> str | None:  # type: ignore[override]
        return self.holder


def test_a_second_delivery_of_a_running_command_reports_nothing_and_waits_for_it() -> None:
    """GIVEN restore X running on another worker WHEN X is delivered again THEN no 'busy' failure is recorded for X."""
    command_id = "fedcba987654"
    message = request_message(
        "restore", db="orders", confirm="orders", command_id=command_id, **{"from": _manifest().backup_id}
    )
    publisher = RecordingPublisher()
    deps = _deps(publisher, store=HeldStore(f"restore {command_id} on worker-2", [_manifest()]))

    assert handle_message(message, deps, threading.Event()) is Disposition.LATER
    assert publisher.events == []


def test_another_command_holding_the_lock_makes_the_database_busy() -> None:
    message = request_message("restore", db="orders", confirm="orders", **{"from": _manifest().backup_id})
    publisher = RecordingPublisher()
    deps = _deps(publisher, store=HeldStore("backup 0123456789ab on worker-2", [_manifest()]))

    assert handle_message(message, deps, threading.Event()) is Disposition.DONE
    [failed] = publisher.events
    assert isinstance(failed, CommandFailed) and "is busy" in failed.reason and "0123456789ab" in failed.reason
