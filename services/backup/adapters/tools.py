"""Run a database client tool as a subprocess (argument list, no shell), keeping the tail of its stderr."""

from __future__ import annotations

import contextlib
import fcntl
import io
import subprocess
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from typing import IO

from services.backup.connections import Database
from services.backup.errors import BackupError
from services.backup.ports import DumpEngine, ToolCommand

STDERR_TAIL_BYTES = 4000
PIPE_SIZE = 1024 * 1024
"""Linux's default pipe holds 64 KiB, a few ms of a dump's output: on a busy machine the tool would stop at each
moment the worker's reading thread is not running. Linux lets any process have 1 MiB (`/proc/sys/fs/pipe-max-size`)."""


class ToolProcess:
    def __init__(self, command: ToolCommand, *, base_env: Mapping[str, str], stdin: bool = False) -> None:
        self.name = command.argv[0]
        try:
            self.process = subprocess.Popen(
                command.argv,
                env={**base_env, **command.env},
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if stdin else subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as error:
            raise BackupError(f"`{self.name}` could not be started: {error.strerror or error}") from error
        _widen(self.process.stdin if stdin else self.process.stdout)
        self._stderr: deque[bytes] = deque()
        self._stderr_size = 0
        self._reader = threading.Thread(target=self._collect_stderr, daemon=True)
        self._reader.start()

    @property
    def stdout(self) -> io.BufferedReader:
        assert isinstance(self.process.stdout, io.BufferedReader)  # what `Popen` makes of a pipe (bufsize -1)
        return self.process.stdout

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    def stderr_tail(self) -> str:
        self._reader.join(timeout=5)
        return b"".join(self._stderr).decode("utf-8", errors="replace")[-STDERR_TAIL_BYTES:].strip()

    def finish(self, timeout: float | None = None) -> None:
        """Wait for the tool; a non-zero exit is a `BackupError` carrying its stderr tail."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        code = self.process.wait(timeout=timeout)
        if code != 0:
            raise BackupError(f"`{self.name}` failed (exit code {code}).", output=self.stderr_tail())

    def kill_when(self, stop: threading.Event) -> None:
        """Kill the tool as soon as `stop` is set, even while it is silent (a dump waiting on a lock)."""

        def watch() -> None:
            while self.process.poll() is None:
                if stop.wait(0.2):
                    self.process.kill()
                    return

        threading.Thread(target=watch, name=f"{self.name}-stop", daemon=True).start()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _collect_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in iter(self.process.stderr.readline, b""):
            self._stderr.append(line)
            self._stderr_size += len(line)
            while self._stderr_size > STDERR_TAIL_BYTES and len(self._stderr) > 1:
                self._stderr_size -= len(self._stderr.popleft())


def _widen(pipe: IO[bytes] | None) -> None:
    """A larger pipe where the system allows one (Linux); the default size elsewhere."""
    if pipe is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)


@contextlib.contextmanager
def running(command: ToolCommand, *, base_env: Mapping[str, str], stdin: bool = False) -> Iterator[ToolProcess]:
    """The process is killed if the block raises; the block calls `finish()` on success."""
    tool = ToolProcess(command, base_env=base_env, stdin=stdin)
    try:
        yield tool
    except BaseException:
        tool.kill()
        raise


def server_version(engine: DumpEngine, db: Database, *, base_env: Mapping[str, str]) -> str:
    """The server's version for the manifest; "unknown" rather than failing a backup over it."""
    command = engine.version(db)
    try:
        done = subprocess.run(
            command.argv, env={**base_env, **command.env}, capture_output=True, text=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout.strip() else "unknown"


def run_tool(command: ToolCommand, *, base_env: Mapping[str, str], timeout: float = 3600) -> str:
    """Run a short tool to its end and return its stdout; a non-zero exit is a `BackupError` with its stderr."""
    name = command.argv[0]
    try:
        done = subprocess.run(
            command.argv, env={**base_env, **command.env}, capture_output=True, timeout=timeout, check=False
        )
    except OSError as error:
        raise BackupError(f"`{name}` could not be started: {error.strerror or error}") from error
    except subprocess.TimeoutExpired as error:
        raise BackupError(f"`{name}` did not finish within {timeout:.0f} s.") from error
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", errors="replace")[-STDERR_TAIL_BYTES:].strip()
        raise BackupError(f"`{name}` failed (exit code {done.returncode}).", output=tail)
    return done.stdout.decode("utf-8", errors="replace")


def parse_counts(output: str) -> dict[str, int]:
    """`<table>\\t<rows>` lines (what `DumpEngine.count_rows` prints) → {table: rows}."""
    counts = {}
    for line in output.splitlines():
        table, _, rows = line.rpartition("\t")
        if table and rows.strip().isdigit():
            counts[table] = int(rows)
    return counts
