"""How each database engine dumps, restores and reports its version: argument lists, never shell strings."""

from __future__ import annotations

import re

from services.backup.connections import Database
from services.backup.ports import DumpEngine, ToolCommand

_MYSQLDUMP_SERVER_VERSION = re.compile(rb"^-- Server version\t([^\r\n]+)$", re.MULTILINE)


class PostgresEngine:
    name = "postgresql"
    transactional_restore = True

    def dump(self, db: Database) -> ToolCommand:
        return ToolCommand(["pg_dump", "--format=custom", "--no-password", *self._target(db)], self._env(db))

    def restore(self, db: Database) -> ToolCommand:
        # One transaction: a restore stopped before the archive's end (bad checksum, SIGTERM) rolls back.
        argv = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
        return ToolCommand([*argv, "--no-password", *self._target(db)], self._env(db))

    def version(self, db: Database) -> ToolCommand:
        argv = ["psql", "--no-password", "--tuples-only", "--no-align", "--command=SHOW server_version"]
        return ToolCommand([*argv, *self._target(db)], self._env(db))

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

    def dump(self, db: Database) -> ToolCommand:
        flags = ["--single-transaction", "--routines", "--triggers", "--add-drop-table"]
        return ToolCommand(["mysqldump", *self._target(db), *flags, db.dbname], self._env(db))

    def restore(self, db: Database) -> ToolCommand:
        return ToolCommand(["mysql", *self._target(db), db.dbname], self._env(db))

    def version(self, db: Database) -> ToolCommand:
        return ToolCommand(
            ["mysql", *self._target(db), "--batch", "--skip-column-names", "-e", "SELECT VERSION()"], self._env(db)
        )

    def version_in_dump(self, head: bytes) -> str | None:
        """mysqldump's header comment: `-- Server version\t10.11.6-MariaDB-0+deb12u1` (what `VERSION()` says)."""
        found = _MYSQLDUMP_SERVER_VERSION.search(head)
        return found.group(1).decode(errors="replace") if found else None

    def _target(self, db: Database) -> list[str]:
        return [f"--host={db.host}", f"--port={db.port}", f"--user={db.user}", "--protocol=TCP"]

    def _env(self, db: Database) -> dict[str, str]:
        return {"MYSQL_PWD": db.password} if db.password else {}


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
