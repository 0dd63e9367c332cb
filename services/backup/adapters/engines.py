"""How each database engine dumps, restores and reports its version: argument lists, never shell strings."""

from __future__ import annotations

from services.backup.connections import Database
from services.backup.ports import DumpEngine, ToolCommand


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

    def _target(self, db: Database) -> list[str]:
        return [f"--host={db.host}", f"--port={db.port}", f"--user={db.user}", "--protocol=TCP"]

    def _env(self, db: Database) -> dict[str, str]:
        return {"MYSQL_PWD": db.password} if db.password else {}


ENGINES: dict[str, DumpEngine] = {"postgresql": PostgresEngine(), "mysql": MySqlEngine()}
