"""`RowCounter`s: each table's row count as a dump holds it, recorded in the manifest for `verify` to compare.

PostgreSQL: a `psql` session opens a repeatable-read transaction and exports its snapshot; `pg_dump --snapshot`
dumps exactly that snapshot, and the rows are counted in the same transaction once the dump has ended, so the
counts are the dump's whatever is written meanwhile (the cost: a `count(*)` of every table, see docs/operations.md).
MySQL/MariaDB: no other session can share mysqldump's snapshot, so the rows are counted in the dump itself as it
streams past: one per tuple of each `INSERT INTO`, string literals skipped.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from services.backup.adapters.tools import STDERR_TAIL_BYTES, parse_counts
from services.backup.errors import BackupError
from services.backup.ports import ToolCommand

PG_COUNT_ROWS = r"""
SELECT n.nspname || '.' || c.relname || E'\t' || (xpath('/row/n/text()', query_to_xml(
         format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1;
"""
"""Every ordinary and partitioned table outside the system schemas (an extension's own tables are its business)."""
_END = "slashops-end-of-answer"


class SnapshotRowCounter:
    """A `psql` session holding the snapshot `pg_dump` dumps; the counts are read in it after the dump."""

    def __init__(self, session: subprocess.Popen[str]) -> None:
        self._session = session
        self.dump_options: Sequence[str] = (f"--snapshot={self._ask('SELECT pg_export_snapshot();')[0]}",)

    def feed(self, data: memoryview) -> None:
        pass  # counted in the database, in the dump's snapshot

    def counts(self) -> dict[str, int]:
        return parse_counts("\n".join(self._ask(PG_COUNT_ROWS)))

    def _ask(self, sql: str) -> list[str]:
        """One statement's output lines; psql answers each statement as it reads it (and flushes)."""
        stdin, stdout = self._pipes()
        stdin.write(f"{sql}\n\\echo {_END}\n")
        stdin.flush()
        lines = []
        while (line := stdout.readline()) and line.rstrip("\n") != _END:
            lines.append(line.rstrip("\n"))
        if not line:
            raise BackupError(
                "`psql` (the session holding the snapshot `pg_dump` dumps, where its rows are counted) failed.",
                output=self._tail(),
            )
        return lines

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self._session.stdin is not None and self._session.stdout is not None
        return self._session.stdin, self._session.stdout

    def _tail(self) -> str:
        self._session.kill()
        self._session.wait(timeout=10)
        assert self._session.stderr is not None
        return self._session.stderr.read()[-STDERR_TAIL_BYTES:].strip()


@contextlib.contextmanager
def snapshot_counter(session: ToolCommand, *, base_env: Mapping[str, str]) -> Iterator[SnapshotRowCounter]:
    """`session`: psql on the database, reading statements from stdin (`PostgresEngine.snapshot_session`)."""
    try:
        process = subprocess.Popen(
            session.argv,
            env={**base_env, **session.env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
    except OSError as error:
        raise BackupError(f"`{session.argv[0]}` could not be started: {error.strerror or error}") from error
    try:
        assert process.stdin is not None
        process.stdin.write("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n")
        yield SnapshotRowCounter(process)
    finally:
        if process.poll() is None:  # still open: end the read-only transaction, then the session
            with contextlib.suppress(OSError, ValueError, subprocess.TimeoutExpired):
                process.communicate("COMMIT;\n", timeout=30)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


_MARKER = re.compile(
    rb"^(?:-- Dumping data for table `(?P<dumped>(?:[^`]|``)+)`|INSERT INTO `(?P<insert>(?:[^`]|``)+)`"
    rb"(?: \([^)]*\))? VALUES)",
    re.MULTILINE,
)
_STRING = re.compile(rb"'[^'\\\n]*(?:\\.[^'\\\n]*)*'")
_STATEMENT_END = b";\n"


class DumpRowCounter:
    """Counts the rows of a mysqldump as it streams past: the tables whose data it dumps (even empty ones, which
    it announces with a `-- Dumping data for table` comment) and one row per tuple of their INSERTs.

    MySQL's mysqldump writes an INSERT on one line (`VALUES (1,'a'),(2,'b');`), MariaDB's from 10.x one tuple a
    line (`VALUES` then `(1,'a'),` …). Either way a value never holds a raw newline (it is written `\\n`), so a
    statement ends at the first `;` before a newline (`_tuples` counts its rows). Whole blocks of lines are scanned
    at once (`find`, `count`, regular expressions): no Python loop per row (docs/operations.md has the cost).
    """

    dump_options: Sequence[str] = ()

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._pending = b""
        self._table: str | None = None
        """The table whose INSERT is being read, across blocks."""

    def feed(self, data: memoryview) -> None:
        block = self._pending + bytes(data)
        cut = block.rfind(b"\n") + 1
        self._pending = block[cut:]
        if cut:
            self._block(block[:cut])

    def counts(self) -> dict[str, int]:
        if self._pending:
            self._block(self._pending + b"\n")
            self._pending = b""
        return dict(self._counts)

    def _block(self, block: bytes) -> None:
        """Whole lines: the rest of an INSERT a previous block began, then every marker and INSERT in order."""
        position = self._values(block, 0) if self._table is not None else 0
        while position < len(block) and (found := _MARKER.search(block, position)) is not None:
            if found["dumped"] is not None:
                self._counts.setdefault(_name(found["dumped"]), 0)
                position = found.end()
                continue
            self._table = _name(found["insert"])
            position = self._values(block, found.end())

    def _values(self, block: bytes, start: int) -> int:
        """Count the tuples of the current INSERT from `start`; returns where it ended (or the block's end)."""
        assert self._table is not None
        end = block.find(_STATEMENT_END, start)
        stop = len(block) if end == -1 else end + len(_STATEMENT_END)
        tuples = _tuples(block[start:stop])
        self._counts[self._table] = self._counts.get(self._table, 0) + tuples
        if end != -1:
            self._table = None
        return stop


def _tuples(values: bytes) -> int:
    """One tuple a line (MariaDB: the values start on a new line): the lines that start with `(` — no string holds
    a raw newline, so `\\n(` is always a tuple's start, and counting it is a memchr. All on one line (MySQL): the
    `(` left once the string literals are removed."""
    if values.startswith((b"\n", b"(")):
        return values.count(b"\n(") + values.startswith(b"(")
    return _STRING.sub(b"", values).count(b"(")


def _name(quoted: bytes) -> str:
    return quoted.replace(b"``", b"`").decode("utf-8", errors="replace")


@contextlib.contextmanager
def dump_counter() -> Iterator[DumpRowCounter]:
    yield DumpRowCounter()
