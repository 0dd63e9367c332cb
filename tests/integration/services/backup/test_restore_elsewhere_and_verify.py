"""Restores into another database, and tested restores (`verify`), on the real PostgreSQL and MariaDB on this
machine with S3 on LocalStack: the target ends up with the source's contents; a good backup verifies, a truncated or
byte-flipped one fails (and is not restored either); no scratch database is left behind; the source is untouched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.connections import Database
from services.backup.consumer import handle_message
from services.backup.models import Manifest
from services.backup.verifying import SCRATCH_PREFIX, scratch_prefix
from shared.events.models import CommandFailed, CommandSucceeded
from tests.support.backup import (
    Worker,
    events_of,
    make_worker,
    mariadb,
    psql,
    request_message,
    throwaway_maria_database,
    throwaway_pg_database,
)
from tests.support.fakes import StaticConfig

pytestmark = pytest.mark.integration

SOURCE_SQL = (
    "CREATE TABLE orders (id int primary key, item text); "
    "INSERT INTO orders VALUES (1, 'tea'), (2, 'it''s ),( cake'), (3, NULL); "
    "CREATE TABLE order_lines (id int primary key, n int); "
)
PG_SOURCE = SOURCE_SQL + "INSERT INTO order_lines SELECT g, g * 2 FROM generate_series(1, 1500) AS g;"
MARIA_SOURCE = (
    SOURCE_SQL + "INSERT INTO order_lines SELECT seq, seq * 2 FROM seq_1_to_1500; CREATE TABLE empty_one (x int);"
)
STALE_SQL = "CREATE TABLE orders (id int primary key, item text); INSERT INTO orders VALUES (9, 'stale');"
CONFIG = "access:\n  - {command: '*'}\nbackup:\n  restore_into: {orders: [orders_staging], shop: [shop_staging]}\n"


@pytest.fixture
def pg_pair() -> Iterator[tuple[Database, Database]]:
    with (
        throwaway_pg_database("orders", PG_SOURCE) as source,
        throwaway_pg_database("orders_staging", STALE_SQL) as target,
    ):
        yield source, target


@pytest.fixture
def maria_pair() -> Iterator[tuple[Database, Database]]:
    with (
        throwaway_maria_database("shop", MARIA_SOURCE) as source,
        throwaway_maria_database("shop_staging", STALE_SQL) as target,
    ):
        yield source, target


def _pg_contents(db: Database) -> str:
    return psql(
        "SELECT (SELECT string_agg(id || ':' || coalesce(item, '∅'), ',' ORDER BY id) FROM orders) || ' / ' || "
        "(SELECT count(*) || ':' || sum(n) FROM order_lines)",
        db.dbname,
    )


def _maria_contents(db: Database) -> str:
    return mariadb(
        "SELECT CONCAT((SELECT GROUP_CONCAT(id, ':', COALESCE(item, '∅') ORDER BY id) FROM orders), ' / ', "
        "(SELECT CONCAT(COUNT(*), ':', SUM(n)) FROM order_lines), ' / ', (SELECT COUNT(*) FROM empty_one))",
        db.dbname,
    )


def _orders(db: Database, engine: str) -> str:
    if engine == "postgresql":
        return psql("SELECT string_agg(id || ':' || item, ',' ORDER BY id) FROM orders", db.dbname)
    return mariadb("SELECT GROUP_CONCAT(id, ':', item ORDER BY id) FROM orders", db.dbname)


def _worker(store: S3BackupStore, *databases: Database) -> Worker:
    worker = make_worker(store, *databases)
    worker.deps.config = StaticConfig.from_text(CONFIG)
    return worker


def _run(worker: Worker, command: str, **arguments: Any) -> None:
    handle_message(request_message(command, **arguments), worker.deps, worker.stop)


def _backed_up(worker: Worker, store: S3BackupStore, db: Database) -> Manifest:
    _run(worker, "backup", db=db.name)
    [manifest] = store.manifests(db.name)
    return manifest


def _pg_scratch() -> list[str]:
    return psql(f"SELECT datname FROM pg_database WHERE datname LIKE '{SCRATCH_PREFIX}%'").split()


def _maria_scratch() -> list[str]:
    return mariadb(f"SHOW DATABASES LIKE '{SCRATCH_PREFIX.replace('_', chr(92) + '_')}%'").split()


def _damage(s3: Any, store: S3BackupStore, manifest: Manifest, how: str) -> None:
    """Replace the backup's object (the worker never could: If-None-Match): cut short, or one byte flipped."""
    body = bytearray(s3.get_object(Bucket=store.bucket, Key=manifest.object_key)["Body"].read())
    if how == "truncated":
        body = body[: len(body) * 2 // 3]
    else:
        body[len(body) // 2] ^= 0x01
    s3.put_object(Bucket=store.bucket, Key=manifest.object_key, Body=bytes(body))


# --- restore into another database ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_a_backup_restored_into_another_database_leaves_it_equal_to_the_source(
    engine: str, request: pytest.FixtureRequest, store: S3BackupStore
) -> None:
    pair = "pg_pair" if engine == "postgresql" else "maria_pair"
    source, target = request.getfixturevalue(pair)
    contents: Callable[[Database], str] = _pg_contents if engine == "postgresql" else _maria_contents
    worker = _worker(store, source, target)
    manifest = _backed_up(worker, store, source)
    before = contents(source)

    _run(worker, "restore", db=target.name, confirm=target.name, **{"from": manifest.backup_id})

    assert contents(target) == before and contents(source) == before
    summary = events_of(worker.deps, CommandSucceeded)[-1].summary
    assert summary.startswith(f"Restored `{target.name}` from `{source.name}`'s backup `{manifest.backup_id}` (")


def test_row_counts_are_recorded_in_the_manifest_at_backup_time(
    pg_pair: tuple[Database, Database], maria_pair: tuple[Database, Database], store: S3BackupStore
) -> None:
    worker = _worker(store, pg_pair[0], maria_pair[0])
    assert _backed_up(worker, store, pg_pair[0]).tables == {"public.order_lines": 1500, "public.orders": 3}
    assert _backed_up(worker, store, maria_pair[0]).tables == {"empty_one": 0, "order_lines": 1500, "orders": 3}


# --- verify -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_a_good_backup_verifies_and_no_scratch_database_is_left(
    engine: str, request: pytest.FixtureRequest, store: S3BackupStore
) -> None:
    source, _ = request.getfixturevalue("pg_pair" if engine == "postgresql" else "maria_pair")
    contents = _pg_contents if engine == "postgresql" else _maria_contents
    scratch = _pg_scratch if engine == "postgresql" else _maria_scratch
    worker = _worker(store, source)
    manifest = _backed_up(worker, store, source)
    before = contents(source)

    _run(worker, "verify", db=source.name)

    [passed] = [e for e in events_of(worker.deps, CommandSucceeded) if e.command == "verify"]
    assert passed.summary.startswith(f"Verified backup `{manifest.backup_id}` of `{source.name}` in ")
    assert f"all {len(manifest.tables or {})} table(s) have the row counts recorded at backup time" in passed.summary
    assert scratch() == [] and contents(source) == before
    _run(worker, "backups", db=source.name)
    assert " — verified 20" in events_of(worker.deps, CommandSucceeded)[-1].summary


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
@pytest.mark.parametrize("how", ["truncated", "flipped"])
def test_a_damaged_backup_fails_verification_is_not_restored_and_leaves_no_scratch_database(
    engine: str, how: str, request: pytest.FixtureRequest, store: S3BackupStore, s3: Any
) -> None:
    source, target = request.getfixturevalue("pg_pair" if engine == "postgresql" else "maria_pair")
    scratch = _pg_scratch if engine == "postgresql" else _maria_scratch
    worker = _worker(store, source, target)
    manifest = _backed_up(worker, store, source)
    _damage(s3, store, manifest, how)
    stale = _orders(target, engine)

    _run(worker, "verify", db=source.name)
    _run(worker, "restore", db=target.name, confirm=target.name, **{"from": manifest.backup_id})

    failed_verify, failed_restore = events_of(worker.deps, CommandFailed)
    assert "*failed verification*" in failed_verify.reason and not failed_verify.retryable
    if how == "truncated":  # one HEAD says so: nothing is read, no scratch database is made
        assert "the manifest recorded" in failed_verify.reason and "the manifest recorded" in failed_restore.reason
    else:  # the checksum, while it streams: the scratch restore stops before it completes
        assert "does not match the checksum its manifest recorded" in failed_verify.reason
        assert "checksum does not match its manifest" in failed_restore.reason
    assert scratch() == [] and _orders(target, engine) == stale == "9:stale"
    _run(worker, "backups", db=source.name)
    assert " — *verify failed 20" in events_of(worker.deps, CommandSucceeded)[-1].summary


def test_a_scratch_database_a_crashed_verify_left_is_dropped_by_the_next_verify(
    pg_pair: tuple[Database, Database], store: S3BackupStore
) -> None:
    source, _ = pg_pair
    leftover = f"{scratch_prefix(source.name)}crashed00000"
    psql(f"CREATE DATABASE {leftover}")
    worker = _worker(store, source)
    _backed_up(worker, store, source)

    _run(worker, "verify", db=source.name)

    [passed] = [e for e in events_of(worker.deps, CommandSucceeded) if e.command == "verify"]
    assert f"Dropped `{leftover}` first" in passed.summary and _pg_scratch() == []
