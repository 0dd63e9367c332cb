"""`restore --db orders_staging --from <a backup of orders>`: into another database of the same engine, where the
configuration allows it; and a damaged backup object (truncated, changed) is never restored."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from services.backup.connections import parse_url
from services.backup.consumer import handle_message
from services.backup.deps import BackupDeps
from shared.events.models import CommandAccepted, CommandFailed, CommandRejected, CommandSucceeded
from tests.support.backup import ORDERS, ScriptEngine, a_manifest, backup_deps, events_of, published, request_message
from tests.support.fakes import StaticConfig
from tests.support.fakes.backup import FakeBackupStore

DATA = b"an archive of orders"
MANIFEST = a_manifest(sha256=hashlib.sha256(DATA).hexdigest(), size_bytes=len(DATA))
STAGING = parse_url("orders_staging", "postgresql://postgres@127.0.0.1/orders_staging_db")
SHOP = parse_url("shop", "mysql://root@127.0.0.1/shop_db")
ALLOWED = "access:\n  - {command: '*'}\nbackup:\n  restore_into: {orders: [orders_staging, shop]}\n"


def _deps(tmp_path: Path, *, config: str = ALLOWED) -> tuple[BackupDeps, FakeBackupStore, Path]:
    store, log = FakeBackupStore().add(MANIFEST, DATA), tmp_path / "tools.log"
    engine = ScriptEngine(log=str(log))
    deps = backup_deps(
        store=store,
        databases={"orders": ORDERS, "orders_staging": STAGING, "shop": SHOP},
        engines={"postgresql": engine, "mysql": ScriptEngine(name="mysql", log=str(log))},
        config=StaticConfig.from_text(config),
    )
    return deps, store, log


def _restore(deps: BackupDeps, target: str = "orders_staging", **more: object) -> None:
    arguments = {"db": target, "from": MANIFEST.backup_id, "confirm": target, **more}
    handle_message(request_message("restore", **arguments), deps, threading.Event())


def _tools(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_backup_of_orders_restores_into_orders_staging_and_every_message_names_both(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)

    _restore(deps)

    assert _tools(log) == ["restore orders_staging_db"]  # the target's connection; orders is never touched
    accepted, succeeded = published(deps)
    assert isinstance(accepted, CommandAccepted) and isinstance(succeeded, CommandSucceeded)
    assert succeeded.summary == f"Restored `orders_staging` from `orders`'s backup `{MANIFEST.backup_id}` (20 B)."
    assert succeeded.activity == f"restoring `orders_staging` from `orders`'s backup `{MANIFEST.backup_id}`"
    [record] = store.restore_records.values()
    assert (record.database, record.source, record.backup_id) == ("orders_staging", "orders", MANIFEST.backup_id)
    assert store.locks == {}


def test_the_confirmation_names_the_target_and_the_source(tmp_path: Path) -> None:
    deps, _, log = _deps(tmp_path)

    _restore(deps, confirm="orders")  # the source's name does not confirm a restore into the target

    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and _tools(log) == []
    assert rejected.reason.startswith(
        f"Restoring replaces everything in `orders_staging` with `orders`'s backup `{MANIFEST.backup_id}` (20 B, "
    )
    assert rejected.hint == (
        "To go ahead, type exactly: "
        f"`/ops restore --db orders_staging --from {MANIFEST.backup_id} --confirm orders_staging`"
    )


def test_a_restore_into_another_database_the_configuration_does_not_allow_is_refused(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path, config="access:\n  - {command: '*'}\n")

    _restore(deps)

    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and _tools(log) == [] and store.calls["acquire_lock"] == 0
    assert rejected.reason == "Restoring `orders`'s backups into `orders_staging` is not allowed: nothing was changed."
    assert "`backup.restore_into: {orders: [orders_staging]}`" in (rejected.hint or "")


def test_a_backup_of_another_engine_is_refused_naming_both_databases_and_engines(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)

    _restore(deps, target="shop")

    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and _tools(log) == [] and store.calls["acquire_lock"] == 0
    assert rejected.reason == (
        f"`shop` is a mysql database, and `orders`'s backup `{MANIFEST.backup_id}` is a postgresql backup of "
        "`orders`: a backup is restored only into a database of the same engine. Nothing was changed."
    )


def test_a_truncated_backup_object_is_refused_before_the_restore_tool_starts(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)
    store.objects[MANIFEST.object_key] = DATA[:-3]

    _restore(deps, target="orders", confirm="orders")

    [failed] = published(deps)
    assert isinstance(failed, CommandFailed) and not failed.retryable and _tools(log) == []
    assert failed.reason.startswith(
        f"Backup `{MANIFEST.backup_id}` of `orders` is damaged: its data is 17 bytes in the bucket, and the manifest "
        "recorded 20 (truncated or replaced), so it was not restored — no database was touched."
    )


def test_a_backup_with_a_changed_byte_never_completes_a_restore(tmp_path: Path) -> None:
    deps, store, log = _deps(tmp_path)
    store.objects[MANIFEST.object_key] = DATA[:5] + b"X" + DATA[6:]

    _restore(deps)

    [failed] = events_of(deps, CommandFailed)
    assert "checksum does not match its manifest" in failed.reason and not events_of(deps, CommandSucceeded)
    assert store.restore_records == {}
