"""What every use case is given (a `Job`: one command on one database, checked) and returns (an `Outcome`),
and how the consumer runs it (a `UseCase`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.backup import messages
from services.backup.connections import Database
from services.backup.ports import BackupStore, DumpEngine
from shared.config.backup import BackupConfig, RetentionPolicy


@dataclass(frozen=True)
class JobSettings:
    part_size: int = 8 * 1024 * 1024
    read_chunk: int = 1024 * 1024
    progress_every_seconds: float = 10.0
    #: the only environment the client tools see (plus their own password variable)
    tool_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    summary: str
    output: str = ""
    duration_seconds: float | None = None


@dataclass(frozen=True)
class UseCase[T]:
    """How the consumer runs one command (its registry, `consumer.USE_CASES`, maps command names to these).

    `precheck` may refuse the job (raise) before the user is told it started; what it finds is handed to `run`,
    so nothing is looked up twice. `locked`: the run holds the database's lock (it reads or changes the data).
    """

    run: Callable[[Job, T], Outcome]
    precheck: Callable[[Job], T]
    locked: bool


@dataclass
class Job:
    """One command on one database, past the consumer's checks, with what it needs to run and report."""

    command_id: str
    requested_by: str
    arguments: Mapping[str, object]
    database: Database
    engine: DumpEngine
    store: BackupStore
    stop: threading.Event
    say: Callable[[str], None]
    settings: JobSettings = field(default_factory=JobSettings)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    backup_config: BackupConfig = field(default_factory=BackupConfig)
    """The configuration's `backup` section as this job was admitted under (which restores may cross databases)."""
    #: the database's retention policy (`backup.retention`), as the configuration read for this job says; None:
    #: its backups are never pruned
    retention: RetentionPolicy | None = None

    def bytes_reporter(self) -> Callable[[int], None]:
        """Progress at most every `progress_every_seconds`, so a long job doesn't flood Slack."""
        last = [time.monotonic()]

        def report(size: int) -> None:
            if time.monotonic() - last[0] >= self.settings.progress_every_seconds:
                last[0] = time.monotonic()
                self.say(messages.so_far(size))

        return report
