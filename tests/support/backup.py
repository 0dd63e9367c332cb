"""Backup-worker test helpers: messages as the EventBridge rule delivers them, deps on the fakes, manifests,
client-tool stand-ins, and throwaway PostgreSQL / MariaDB databases for the integration and reliability cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.backup.adapters.engines import PostgresEngine
from services.backup.connections import Database, MisconfiguredDatabase, parse_url
from services.backup.deps import BackupDeps
from services.backup.job import JobSettings
from services.backup.models import Manifest
from services.backup.ports import BackupStore, JobQueue, QueueMessage, RowCounter, ToolCommand
from shared.config.port import ConfigPort
from shared.events.models import Actor, Approval, CommandRequested, Event, Place, ReplyTarget
from shared.events.publisher import EventPublisher
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.backup import FakeBackupStore, FakeJobQueue
from tests.support.fakes.names import seeded_names

#: access rules admitting the test user (U0ABC in #ops) to every backup command
ADMIT_ALL = '{"command": "*"}'
ORDERS = parse_url("orders", "postgresql://postgres@127.0.0.1/orders")
T0 = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)


def open_config() -> StaticConfig:
    return StaticConfig.from_text(ADMIT_ALL)


def request_message(
    command: str,
    receipt: str = "r-1",
    *,
    user_id: str = "U0ABC",
    channel_id: str = "C0123",
    source: str = "slashops.ingress",
    command_id: str | None = None,
    approval: Approval | None = None,
    **arguments: object,
) -> QueueMessage:
    """An SQS message as the EventBridge rule delivers it: the whole event, the command in `detail`."""
    event = CommandRequested(
        command_id=command_id or uuid.uuid4().hex[:12],
        command=command,
        arguments=arguments,  # type: ignore[arg-type]
        actor=Actor(team_id="T1", user_id=user_id, user_name="example.user" if user_id == "U0ABC" else ""),
        place=Place(channel_id=channel_id, channel_name="ops" if channel_id == "C0123" else ""),
        reply_to=ReplyTarget(response_url="https://hooks.slack.com/x", channel_id=channel_id, user_id=user_id),
        approval=approval,
    )
    envelope = {
        "source": source,
        "detail-type": "CommandRequested",
        "detail": event.model_dump(mode="json"),
    }
    return QueueMessage(body=json.dumps(envelope), receipt_handle=receipt)


def backup_deps(
    *,
    store: BackupStore | None = None,
    queue: JobQueue | None = None,
    publisher: EventPublisher | None = None,
    config: ConfigPort | None = None,
    databases: Mapping[str, Database | MisconfiguredDatabase] | None = None,
    settings: JobSettings | None = None,
    **more: Any,
) -> BackupDeps:
    """The worker's deps on the in-memory fakes (orders on PostgreSQL, everyone admitted) unless told otherwise."""
    return BackupDeps(
        queue=queue if queue is not None else FakeJobQueue(),
        store=store if store is not None else FakeBackupStore(),
        publisher=publisher if publisher is not None else RecordingPublisher(),
        databases=databases if databases is not None else {"orders": ORDERS},
        settings=settings or JobSettings(),
        config=config or open_config(),
        **({"names": seeded_names()} | more),
    )


def published(deps: BackupDeps) -> list[Event]:
    assert isinstance(deps.publisher, RecordingPublisher)
    return deps.publisher.events


def events_of[E](deps: BackupDeps, kind: type[E]) -> list[E]:
    return [event for event in published(deps) if isinstance(event, kind)]


def a_manifest(
    backup_id: str = "orders-20261128T101500Z-abc123",
    *,
    database: str = "orders",
    sha256: str = "0" * 64,
    size_bytes: int = 2048,
    created_by: str = "example.user",
    finished_at: datetime = T0,
    command_id: str = "abc123abc123",
) -> Manifest:
    return Manifest(
        backup_id=backup_id,
        database=database,
        engine="postgresql",
        server_version="15.4",
        object_key=f"backups/{database}/{backup_id}.dump",
        size_bytes=size_bytes,
        sha256=sha256,
        created_by=created_by,
        command_id=command_id,
        started_at=finished_at,
        finished_at=finished_at,
    )


# --- client-tool stand-ins ---------------------------------------------------------------------------------------


def _python(script: str, *args: str) -> ToolCommand:
    return ToolCommand([sys.executable, "-c", script, *args])


@dataclass
class ScriptEngine:
    """A database engine whose tools are tiny Python scripts: use cases run end to end with no database."""

    name: str = "postgresql"
    transactional_restore: bool = True
    dump_script: str = "import sys; sys.stdout.buffer.write(b'a dump')"
    restore_script: str = "import sys; sys.stdin.buffer.read()"
    dumped_rows: dict[str, int] = field(default_factory=lambda: {"public.orders": 2})
    """What the dump's row counter reports (recorded in the manifest)."""
    restored_rows: dict[str, int] = field(default_factory=lambda: {"public.orders": 2})
    """What `count_rows` prints for any database (a verify's restored copy)."""
    log: str = ""
    """A file each scratch-database tool appends a line to (`create <name>`, `drop <name>`, `restore <dbname>`)."""
    existing: tuple[str, ...] = ()
    """What `list_databases` prints (leftover scratch databases)."""
    dump_options: list[tuple[str, ...]] = field(default_factory=list)

    def dump(self, db: Database, options: Sequence[str] = ()) -> ToolCommand:
        self.dump_options.append(tuple(options))
        return _python(self.dump_script)

    def restore(self, db: Database) -> ToolCommand:
        return _python(self._logged(f"restore {db.dbname}") + self.restore_script)

    def counting(self, db: Database, *, base_env: Mapping[str, str]) -> AbstractContextManager[RowCounter]:
        return nullcontext(_FixedCounter(dict(self.dumped_rows)))

    def count_rows(self, db: Database) -> ToolCommand:
        lines = "".join(f"{table}\t{rows}\n" for table, rows in self.restored_rows.items())
        return _python(f"import sys; sys.stdout.write({lines!r})")

    def create_database(self, server: Database, name: str) -> ToolCommand:
        return _python(self._logged(f"create {name}"))

    def drop_database(self, server: Database, name: str) -> ToolCommand:
        return _python(self._logged(f"drop {name}"))

    def list_databases(self, server: Database, prefix: str) -> ToolCommand:
        names = "".join(f"{name}\n" for name in self.existing if name.startswith(prefix))
        return _python(f"import sys; sys.stdout.write({names!r})")

    def _logged(self, line: str) -> str:
        return f"open({self.log!r}, 'a').write({line + chr(10)!r}); " if self.log else ""

    def version(self, db: Database) -> ToolCommand:
        return _python("print('15.4')")

    def version_in_dump(self, head: bytes) -> str | None:
        """What a dump says after `version:` on its first line (`b'version: 15.6\\n…'`); else None."""
        first = head.split(b"\n", 1)[0]
        return first.removeprefix(b"version: ").decode() if first.startswith(b"version: ") else None


def counting_restore(log: str, *, transactional: bool = True) -> ScriptEngine:
    """Reads the whole archive from stdin, then appends one line to `log` per restore."""
    return ScriptEngine(
        transactional_restore=transactional,
        restore_script=f"import sys; sys.stdin.buffer.read(); open({log!r}, 'a').write('restored\\n')",
    )


@dataclass
class _FixedCounter:
    rows: dict[str, int]
    dump_options: tuple[str, ...] = ("--scripted-counter",)

    def feed(self, data: memoryview) -> None:
        pass

    def counts(self) -> dict[str, int]:
        return self.rows


class DyingDump(PostgresEngine):
    """pg_dump stand-in that writes 12 MiB (two parts uploaded) and is then killed."""

    def dump(self, db: Database, options: Sequence[str] = ()) -> ToolCommand:
        return _python(
            "import os,sys; sys.stdout.buffer.write(os.urandom(12*1024*1024)); sys.stdout.flush(); "
            "os.kill(os.getpid(), 9)"
        )


class StalledDump(PostgresEngine):
    """Writes 6 MiB (one part uploaded), then hangs as a dump waiting on a lock would."""

    def dump(self, db: Database, options: Sequence[str] = ()) -> ToolCommand:
        return _python(
            "import os,sys,time; sys.stdout.buffer.write(os.urandom(6*1024*1024)); sys.stdout.flush(); time.sleep(120)"
        )


# --- real databases on this machine ------------------------------------------------------------------------------

PG_URL = os.environ.get("SLASHOPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/{db}")
MARIA_URL = os.environ.get("SLASHOPS_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/{db}")
SEED_SQL = "CREATE TABLE orders (id int primary key, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake')"
TOOL_ENV = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}


def psql(sql: str, dbname: str = "postgres") -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", dbname, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def mariadb(sql: str, dbname: str = "") -> str:
    argv = ["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root", "--protocol=TCP", "-N", "-B", "-e", sql]
    done = subprocess.run([*argv, *([dbname] if dbname else [])], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@contextmanager
def throwaway_pg_database(called: str = "orders", seed: str = SEED_SQL) -> Iterator[Database]:
    """A seeded PostgreSQL database named `orders` (or `called`) in commands, dropped afterwards."""
    name = f"slashops_t_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {name}")
    try:
        psql(seed, name)  # inside: a seed that fails leaves no database behind
        yield parse_url(called, PG_URL.format(db=name))
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def throwaway_maria_database(called: str = "shop", seed: str = SEED_SQL) -> Iterator[Database]:
    """A seeded MariaDB database named `shop` (or `called`) in commands, dropped afterwards."""
    name = f"slashops_t_{uuid.uuid4().hex[:8]}"
    mariadb(f"CREATE DATABASE {name}")
    try:
        mariadb(seed, name)  # inside: a seed that fails leaves no database behind
        yield parse_url(called, MARIA_URL.format(db=name))
    finally:
        mariadb(f"DROP DATABASE IF EXISTS {name}")


@dataclass
class Worker:
    deps: BackupDeps
    stop: threading.Event

    @property
    def publisher(self) -> RecordingPublisher:
        assert isinstance(self.deps.publisher, RecordingPublisher)
        return self.deps.publisher


def make_worker(store: BackupStore, *databases: Database, heartbeat: float = 30.0) -> Worker:
    """A worker on real databases and the given store, with fast progress reports."""
    deps = backup_deps(
        store=store,
        databases={db.name: db for db in databases},
        settings=JobSettings(part_size=5 * 1024 * 1024, progress_every_seconds=0.0, tool_env=TOOL_ENV),
        heartbeat_seconds=heartbeat,
    )
    return Worker(deps=deps, stop=threading.Event())
