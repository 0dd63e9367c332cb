"""The three jobs — backup, list, restore — as plain functions over the ports. No boto3 here.

Summaries and refusals are mrkdwn: names, ids and users are escaped where they are put in (`shared.slack.mrkdwn`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.backup.connections import Database
from services.backup.engines import DumpEngine, server_version
from services.backup.errors import BackupDataMissing, BackupError, Interrupted, JobRejected, ObjectExists
from services.backup.models import Manifest, RestoreRecord, backup_id_for, manifest_key, object_key
from services.backup.ports import BackupStore
from services.backup.processes import running
from services.backup.streaming import feed_verified, upload_stream, verify_stream
from shared.slack.mrkdwn import code, text

logger = logging.getLogger(__name__)
SOURCE = "slashops.backup"
LISTED_BACKUPS = 20


@dataclass(frozen=True)
class JobSettings:
    part_size: int = 8 * 1024 * 1024
    read_chunk: int = 1024 * 1024
    progress_every_seconds: float = 10.0
    tool_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    summary: str
    output: str = ""
    duration_seconds: float | None = None


@dataclass
class Job:
    """One command on one database, with what it needs to run and report."""

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


def run_backup(job: Job) -> Outcome:
    already = [m for m in job.store.manifests(job.database.name) if m.command_id == job.command_id]
    if already:  # a redelivered message whose backup had completed: report it again, don't dump twice
        return _backup_outcome(already[0])
    started = job.now()
    backup_id = backup_id_for(job.database.name, started, job.command_id)
    key = object_key(job.database.name, backup_id)
    version = server_version(job.engine, job.database, base_env=job.settings.tool_env)
    upload = job.store.start_upload(key)
    try:
        with running(job.engine.dump(job.database), base_env=job.settings.tool_env) as dump:
            dump.kill_when(job.stop)
            streamed = upload_stream(
                dump.stdout, upload, part_size=job.settings.part_size, stop=job.stop, progress=_bytes_reporter(job)
            )
            dump.finish()
        upload.complete()
    except BaseException:
        upload.abort()
        raise
    manifest = Manifest(
        backup_id=backup_id,
        database=job.database.name,
        engine=job.engine.name,
        server_version=version,
        object_key=key,
        size_bytes=streamed.size,
        sha256=streamed.sha256,
        created_by=job.requested_by,
        command_id=job.command_id,
        started_at=started,
        finished_at=job.now(),
    )
    job.store.put_manifest(manifest)
    return _backup_outcome(manifest)


def list_backups(job: Job) -> Outcome:
    manifests = job.store.manifests(job.database.name)
    if not manifests:
        return Outcome(summary=f"{code(job.database.name)} has no completed backups yet.")
    lines = [_describe(manifest, job.store.exists(manifest.object_key)) for manifest in manifests[:LISTED_BACKUPS]]
    more = f"\n…and {len(manifests) - LISTED_BACKUPS} older." if len(manifests) > LISTED_BACKUPS else ""
    return Outcome(
        summary=f"{len(manifests)} backup(s) of {code(job.database.name)}, newest first:\n" + "\n".join(lines) + more
    )


def check_restore(job: Job) -> Manifest:
    """The backup exists and the user confirmed by naming the database; otherwise nothing starts."""
    backup_id = str(job.arguments.get("from") or "")
    manifest = job.store.manifest(job.database.name, backup_id)
    if manifest is None:
        raise JobRejected(
            f"There is no backup {code(backup_id)} of {code(job.database.name)}.",
            hint=f"{code(f'/ops backups --db {job.database.name}')} lists them.",
        )
    if not job.store.exists(manifest.object_key):
        raise _data_missing(job, manifest)
    _require_confirmation(job, manifest)
    return manifest


def run_restore(job: Job) -> Outcome:
    """At most once per command id: restoring again would wipe whatever was written since the first restore.

    Runs under the database's lock, so the record is looked up and written with no other job in between.
    """
    manifest = check_restore(job)
    done = job.store.restore_record(job.database.name, job.command_id)
    if done is not None:  # a redelivered message whose restore had finished: report it, don't restore again
        return Outcome(
            summary=f"{code(done.database)} was already restored from {code(done.backup_id)} by this command at "
            f"{done.finished_at:%Y-%m-%d %H:%M} UTC; not restored again."
        )
    started = job.now()
    try:
        _restore_from(job, manifest)
    except BackupDataMissing as error:  # deleted since the precheck: the restore tool never saw an archive
        raise _data_missing(job, manifest) from error
    finished = job.now()
    note = _record_restore(job, manifest, started, finished)
    return Outcome(
        summary=f"Restored {code(job.database.name)} from {code(manifest.backup_id)} ({_size(manifest.size_bytes)})."
        + note,
        duration_seconds=(finished - started).total_seconds(),
    )


def _record_restore(job: Job, manifest: Manifest, started: datetime, finished: datetime) -> str:
    """Record the finished restore; returns "" or a note for the user if it could not be recorded.

    The restore has committed by now: failing to record it must not turn a done restore into a reported failure.
    """
    record = RestoreRecord(
        command_id=job.command_id,
        database=job.database.name,
        backup_id=manifest.backup_id,
        restored_by=job.requested_by,
        started_at=started,
        finished_at=finished,
    )
    try:
        job.store.put_restore_record(record)
    except ObjectExists:
        pass  # this command's restore is recorded already: that record stays
    except Exception:  # S3 unreachable, access denied, ...: the restore itself is done
        logger.exception("could not record restore %s of %s", job.command_id, job.database.name)
        return (
            " The restore could not be recorded (details in the backup worker's logs): if this command is delivered "
            "again, it will restore again."
        )
    return ""


def _restore_from(job: Job, manifest: Manifest) -> None:
    if not job.engine.transactional_restore:
        job.say("Verifying the backup's checksum before touching the database…")
        verify_stream(job.store.read(manifest.object_key, job.settings.read_chunk), manifest.sha256, stop=job.stop)
    with running(job.engine.restore(job.database), base_env=job.settings.tool_env, stdin=True) as restore:
        restore.kill_when(job.stop)
        try:
            chunks = job.store.read(manifest.object_key, job.settings.read_chunk)
            feed_verified(chunks, restore.stdin, manifest.sha256, stop=job.stop, progress=_bytes_reporter(job))
        except BrokenPipeError:
            restore.finish()  # the tool quit early: its own error explains why
            raise
        restore.finish()


def _data_missing(job: Job, manifest: Manifest) -> BackupError:
    """Not retryable: the data will not come back. The manifest stays (the worker may not delete manifests)."""
    name = job.database.name
    return BackupError(
        f"Backup {code(manifest.backup_id)} is listed but its data is missing from the bucket (deleted?); nothing "
        f"was restored — the database is unchanged. {code(f'/ops backups --db {name}')} lists the backups: choose "
        f"another. The stale entry stays listed until an admin deletes {code(manifest_key(name, manifest.backup_id))}.",
        retryable=False,
    )


def _require_confirmation(job: Job, manifest: Manifest) -> None:
    if job.arguments.get("confirm") == job.database.name:
        return
    command = f"/ops restore --db {job.database.name} --from {manifest.backup_id} --confirm {job.database.name}"
    raise JobRejected(
        f"Restoring replaces everything in {code(job.database.name)} with backup {code(manifest.backup_id)} "
        f"({_size(manifest.size_bytes)}, taken {manifest.finished_at:%Y-%m-%d %H:%M} UTC by "
        f"{text(manifest.created_by)}). Nothing was changed.",
        hint=f"To go ahead, type exactly: {code(command)}",
    )


def _backup_outcome(manifest: Manifest) -> Outcome:
    return Outcome(
        summary=f"Backed up {code(manifest.database)} as {code(manifest.backup_id)} ({_size(manifest.size_bytes)}).",
        output=f"sha256 {manifest.sha256}\nengine {manifest.engine} {manifest.server_version}",
        duration_seconds=manifest.duration_seconds,
    )


def _describe(manifest: Manifest, present: bool = True) -> str:
    missing = "" if present else " — *data missing from the bucket, cannot be restored*"
    return (
        f"• {code(manifest.backup_id)} — {_size(manifest.size_bytes)}, {manifest.finished_at:%Y-%m-%d %H:%M} UTC, "
        f"by {text(manifest.created_by)}{missing}"
    )


def _bytes_reporter(job: Job) -> Callable[[int], None]:
    """Progress at most every `progress_every_seconds`, so a long job doesn't flood Slack."""
    last = [time.monotonic()]

    def report(size: int) -> None:
        if time.monotonic() - last[0] >= job.settings.progress_every_seconds:
            last[0] = time.monotonic()
            job.say(f"{_size(size)} so far…")

    return report


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


JOBS: dict[str, Callable[[Job], Outcome]] = {"backup": run_backup, "backups": list_backups, "restore": run_restore}
#: checks that can refuse a job before the user is told it started
PRECHECKS: dict[str, Callable[[Job], object]] = {"restore": check_restore}
__all__ = ["JOBS", "PRECHECKS", "BackupError", "Interrupted", "Job", "JobRejected", "JobSettings", "Outcome"]
