"""`backup` on the fakes with a stand-in dump tool: the manifest comes last, nothing half-done is ever listed."""

from __future__ import annotations

import hashlib
import threading

from services.backup.consumer import Disposition, handle_message
from services.backup.deps import BackupDeps
from services.backup.errors import ObjectExists
from shared.events.models import CommandAccepted, CommandFailed, CommandSucceeded
from tests.support.backup import ScriptEngine, backup_deps, events_of, published, request_message
from tests.support.fakes.backup import FakeBackupStore

DUMP = b"a dump"


def _backing_up(store: FakeBackupStore, engine: ScriptEngine | None = None) -> BackupDeps:
    return backup_deps(store=store, engines={"postgresql": engine or ScriptEngine()})


def test_a_backup_uploads_the_dump_then_writes_its_manifest() -> None:
    store = FakeBackupStore()
    deps = _backing_up(store)
    message = request_message("backup", db="orders", command_id="abc123def456")

    assert handle_message(message, deps, threading.Event()) is Disposition.DONE

    [manifest] = store.manifests("orders")
    assert store.objects[manifest.object_key] == DUMP
    assert manifest.sha256 == hashlib.sha256(DUMP).hexdigest() and manifest.size_bytes == len(DUMP)
    assert manifest.server_version == "15.4" and manifest.created_by == "U0ABC"
    assert manifest.backup_id.startswith("orders-") and manifest.backup_id.endswith("-abc123")
    accepted, succeeded = published(deps)
    assert isinstance(accepted, CommandAccepted) and accepted.message == "Backing up `orders` (postgresql)…"
    assert isinstance(succeeded, CommandSucceeded)
    assert succeeded.summary == f"Backed up `orders` as `{manifest.backup_id}` (6 B)."
    assert succeeded.output == f"sha256 {manifest.sha256}\nengine postgresql 15.4"
    assert store.locks == {}


def test_a_redelivered_backup_that_completed_is_reported_again_not_dumped_twice() -> None:
    store = FakeBackupStore()
    deps = _backing_up(store)
    message = request_message("backup", db="orders")

    handle_message(message, deps, threading.Event())
    handle_message(message, deps, threading.Event())

    first, again = events_of(deps, CommandSucceeded)
    assert first.summary == again.summary and len(store.manifests("orders")) == 1
    assert store.calls["start_upload"] == 1


def test_a_backup_looks_up_only_its_own_command_not_every_manifest() -> None:
    """Listing every manifest (a read of each on S3) before each backup grows with the backups kept."""
    store = FakeBackupStore()
    deps = _backing_up(store)

    handle_message(request_message("backup", db="orders"), deps, threading.Event())

    assert store.calls["backup_by_command"] == 1 and store.calls["manifests"] == 0


def test_the_server_version_comes_from_the_dumps_header_without_running_the_version_tool() -> None:
    store = FakeBackupStore()
    dump = "import sys; sys.stdout.buffer.write(b'version: 16.1\\nthe rest of the dump')"
    deps = _backing_up(store, ScriptEngine(dump_script=dump))  # its version tool would say 15.4

    handle_message(request_message("backup", db="orders"), deps, threading.Event())

    [manifest] = store.manifests("orders")
    assert manifest.server_version == "16.1"


def test_a_failing_dump_aborts_the_upload_lists_nothing_and_shows_the_tools_error() -> None:
    store = FakeBackupStore()
    failing = "import sys; sys.stderr.write('pg_dump: error: connection refused'); sys.exit(1)"
    deps = _backing_up(store, ScriptEngine(dump_script=failing))

    handle_message(request_message("backup", db="orders"), deps, threading.Event())

    [failed] = events_of(deps, CommandFailed)
    assert failed.reason.endswith("failed (exit code 1).") and "connection refused" in failed.output
    assert [upload.state for upload in store.uploads] == ["aborted"]
    assert store.manifests("orders") == [] and store.objects == {}


def test_a_backup_whose_key_is_taken_replaces_nothing() -> None:
    store = FakeBackupStore()
    deps = _backing_up(store)
    message = request_message("backup", db="orders", command_id="abc123def456")
    store.fail("complete", ObjectExists("backups/orders/orders-20261128T101500Z-abc123.dump"))

    handle_message(message, deps, threading.Event())

    [failed] = events_of(deps, CommandFailed)
    assert "already exists in the backup bucket" in failed.reason and failed.retryable
    assert [upload.state for upload in store.uploads] == ["aborted"] and store.manifests("orders") == []
