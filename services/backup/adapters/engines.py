"""How each database engine dumps, restores and reports its version: argument lists, never shell strings."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Mapping, Sequence

from services.backup.adapters.row_counts import PG_COUNT_ROWS, dump_counter, snapshot_counter
from services.backup.connections import Database
from services.backup.ports import DumpEngine, RowCounter, ToolCommand

_MYSQLDUMP_SERVER_VERSION = re.compile(rb"^-- Server version\t([^\r\n]+)$", re.MULTILINE)


class PostgresEngine:
    name = "postgresql"
    transactional_restore = True

    def dump(self, db: Database, options: Sequence[str] = ()) -> ToolCommand:
        argv = ["pg_dump", "--format=custom", "--no-password", *options, *self._target(db)]
        return ToolCommand(argv, self._env(db))

    def restore(self, db: Database) -> ToolCommand:
        # One transaction: a restore stopped before the archive's end (bad checksum, SIGTERM) rolls back.
        argv = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
        return ToolCommand([*argv, "--no-password", *self._target(db)], self._env(db))

    def version(self, db: Database) -> ToolCommand:
        argv = ["psql", "--no-password", "--tuples-only", "--no-align", "--command=SHOW server_version"]
        return ToolCommand([*argv, *self._target(db)], self._env(db))

    def counting(self, db: Database, *, base_env: Mapping[str, str]) -> contextlib.AbstractContextManager[RowCounter]:
        return snapshot_counter(self._psql(db, "--quiet", "--set=ON_ERROR_STOP=1"), base_env=base_env)

    def count_rows(self, db: Database) -> ToolCommand:
        return self._psql(db, f"--command={PG_COUNT_ROWS}")

    def create_database(self, server: Database, name: str) -> ToolCommand:
        return self._psql(server, f"--command=CREATE DATABASE {_pg_name(name)}")

    def drop_database(self, server: Database, name: str) -> ToolCommand:
        return self._psql(server, f"--command=DROP DATABASE IF EXISTS {_pg_name(name)} WITH (FORCE)")

    def list_databases(self, server: Database, prefix: str) -> ToolCommand:
        pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%").replace("'", "''")
        return self._psql(server, f"--command=SELECT datname FROM pg_database WHERE datname LIKE '{pattern}%'")

    def _psql(self, db: Database, *arguments: str) -> ToolCommand:
        argv = ["psql", "--no-password", "--no-psqlrc", "--tuples-only", "--no-align", "--field-separator=\t"]
        return ToolCommand([*argv, *arguments, *self._target(db)], self._env(db))

    def version_in_dump(self, head: bytes) -> str | None:
        """A custom-format archive's header names the server pg_dump read (what `SHOW server_version` says)."""
        try:
            return _CustomArchiveHeader(head).server_version()
        except (IndexError, UnicodeDecodeError):
            return None

    def _target(self, db: Database) -> list[str]:
        return [f"--host={db.host}", f"--port={db.port}", f"--username={db.user}", f"--dbname={db.dbname}"]

    def _env(self, db: Database) -> dict[str, str]:
        return {"PGPASSWORD": db.password} if db.password else {}


class MySqlEngine:
    name = "mysql"
    transactional_restore = False  # DDL commits implicitly: the checksum is verified before anything is applied

    def dump(self, db: Database, options: Sequence[str] = ()) -> ToolCommand:
        flags = ["--single-transaction", "--routines", "--triggers", "--add-drop-table", *options]
        return ToolCommand(["mysqldump", *self._target(db), *flags, db.dbname], self._env(db))

    def restore(self, db: Database) -> ToolCommand:
        return ToolCommand(["mysql", *self._target(db), db.dbname], self._env(db))

    def version(self, db: Database) -> ToolCommand:
        return ToolCommand(
            ["mysql", *self._target(db), "--batch", "--skip-column-names", "-e", "SELECT VERSION()"], self._env(db)
        )

    def counting(self, db: Database, *, base_env: Mapping[str, str]) -> contextlib.AbstractContextManager[RowCounter]:
        return dump_counter()

    def count_rows(self, db: Database) -> ToolCommand:
        """One session: the counts' query is built from the table list and run as a prepared statement (no
        stored procedure, so no privilege beyond reading the tables)."""
        return self._sql(db, _MYSQL_COUNT_ROWS, dbname=db.dbname)

    def create_database(self, server: Database, name: str) -> ToolCommand:
        return self._sql(server, f"CREATE DATABASE {_my_name(name)}")

    def drop_database(self, server: Database, name: str) -> ToolCommand:
        return self._sql(server, f"DROP DATABASE IF EXISTS {_my_name(name)}")

    def list_databases(self, server: Database, prefix: str) -> ToolCommand:
        escaped = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%").replace("'", "\\'")
        return self._sql(server, f"SHOW DATABASES LIKE '{escaped}%'")

    def _sql(self, db: Database, sql: str, *, dbname: str = "") -> ToolCommand:
        argv = ["mysql", *self._target(db), "--batch", "--skip-column-names", "-e", sql]
        return ToolCommand([*argv, *([dbname] if dbname else [])], self._env(db))

    def version_in_dump(self, head: bytes) -> str | None:
        """mysqldump's header comment: `-- Server version\t10.11.6-MariaDB-0+deb12u1` (what `VERSION()` says)."""
        found = _MYSQLDUMP_SERVER_VERSION.search(head)
        return found.group(1).decode(errors="replace") if found else None

    def _target(self, db: Database) -> list[str]:
        return [f"--host={db.host}", f"--port={db.port}", f"--user={db.user}", "--protocol=TCP"]

    def _env(self, db: Database) -> dict[str, str]:
        return {"MYSQL_PWD": db.password} if db.password else {}


_MYSQL_COUNT_ROWS = """
SET SESSION group_concat_max_len = 16777216;
SELECT COALESCE(GROUP_CONCAT(
         CONCAT('SELECT ', QUOTE(table_name), ', COUNT(*) FROM `', REPLACE(table_name, '`', '``'), '`')
         ORDER BY table_name SEPARATOR ' UNION ALL '), 'SELECT 1 FROM DUAL WHERE FALSE') INTO @slashops_counts
  FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE';
PREPARE slashops_counts FROM @slashops_counts;
EXECUTE slashops_counts;
"""


def _pg_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _my_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def on(server: Database, dbname: str) -> Database:
    """The same server and credentials, another database (a verify's scratch database)."""
    return dataclasses.replace(server, dbname=dbname)


class _CustomArchiveHeader:
    """pg_dump's `WriteHead`: "PGDMP", version (3 bytes), int size, offset size, format, compression (an int, or
    from archive version 1.15 a byte), the creation time (7 ints), then the database's name and the server's version
    (strings: an int length, then the bytes). An int is a sign byte, then `int size` bytes, least significant first.
    """

    def __init__(self, head: bytes) -> None:
        self.head, self.offset = head, 0

    def server_version(self) -> str | None:
        if self._take(5) != b"PGDMP":
            return None
        major, minor, _revision, self.int_size = self._take(4)
        if (major, minor) < (1, 12):  # older than PostgreSQL 9.0's pg_dump: a layout not read here
            return None
        self._take(2)  # offset size, format
        if (major, minor) >= (1, 15):
            self._take(1)  # compression algorithm
        else:
            self._int()  # compression level
        for _ in range(7):  # creation time
            self._int()
        self._take(self._int())  # database name
        length = self._int()
        return self._take(length).decode() if length > 0 else None

    def _take(self, size: int) -> bytes:
        if size < 0 or self.offset + size > len(self.head):
            raise IndexError("the header goes on past the bytes read")
        taken = self.head[self.offset : self.offset + size]
        self.offset += size
        return taken

    def _int(self) -> int:
        sign, digits = self._take(1), self._take(self.int_size)
        value = int.from_bytes(digits, "little")
        return -value if sign != b"\x00" else value


ENGINES: dict[str, DumpEngine] = {"postgresql": PostgresEngine(), "mysql": MySqlEngine()}
