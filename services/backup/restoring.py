"""`restore`: replace a database with one of its backups — or, where the configuration allows it, with another
database's (`restore --db orders_staging --from orders-…`: the backup id names its database) — verified against the
manifest's checksum, at most once per command id."""

from __future__ import annotations

import logging
from datetime import datetime

from services.backup import messages
from services.backup.adapters.tools import running
from services.backup.connections import Database
from services.backup.errors import BackupDataMissing, BackupError, JobRejected, ObjectExists
from services.backup.job import Job, Outcome
from services.backup.models import Manifest, RestoreRecord
from services.backup.reading import reading
from services.backup.streaming import feed_verified, verify_stream
from shared.backups import backup_database

logger = logging.getLogger(__name__)


def check_restore(job: Job) -> Manifest:
    """The backup exists, may be restored into this database (the configuration allows it, the engines match), and
    the user confirmed by naming the database; otherwise nothing starts.

    Runs before the user is told the restore started; the manifest it finds is the one `restore` uses.
    """
    manifest = find_backup(job)
    target = job.database
    if not job.backup_config.may_restore_into(manifest.database, target.name):
        raise refused(messages.restore_into_not_allowed(manifest.database, target.name))
    if manifest.engine != target.engine:
        raise refused(messages.engine_mismatch(target, manifest))
    check_object(job, manifest)
    if job.arguments.get("confirm") != job.database.name:
        reason, hint = messages.confirm_restore(job.database.name, manifest)
        raise JobRejected(reason, hint=hint)
    return manifest


def check_object(job: Job, manifest: Manifest) -> None:
    """One HEAD: the object is there, and as long as the manifest says (a truncated object is refused before any
    byte of it is read; a changed byte is caught by the checksum while it streams, before the restore commits)."""
    size = job.store.size(manifest.object_key)
    if size is None:
        raise _data_missing(job, manifest)
    if size != manifest.size_bytes:
        raise BackupError(messages.wrong_size(manifest, size), retryable=False)


def refused(said: tuple[str, str]) -> JobRejected:
    reason, hint = said
    return JobRejected(reason, hint=hint)


def find_backup(job: Job) -> Manifest:
    """The manifest of `--from`, among the backups of the database its id names; refused if there is none."""
    backup_id = str(job.arguments.get("from") or "")
    source = backup_database(backup_id) or job.database.name  # not an id `backup` makes: it is not there either
    manifest = job.store.manifest(source, backup_id)
    if manifest is None:
        raise refused(messages.no_such_backup(source, backup_id))
    return manifest


def restore(job: Job, manifest: Manifest) -> Outcome:
    """At most once per command id: restoring again would wipe whatever was written since the first restore.

    Runs under the database's lock, so the record is looked up and written with no other job in between.
    """
    done = job.store.restore_record(job.database.name, job.command_id)
    if done is not None:  # a redelivered message whose restore had finished: report it, don't restore again
        return Outcome(summary=messages.already_restored(done))
    started = job.now()
    try:
        with reading(job.store, manifest, reader=job.command_id):  # pruning leaves it alone meanwhile
            restore_into(job, job.database, manifest)
    except BackupDataMissing as error:  # deleted since the precheck: the restore tool never saw an archive
        raise _data_missing(job, manifest) from error
    finished = job.now()
    recorded = _record_restore(job, manifest, started, finished)
    return Outcome(
        summary=messages.restored(job.database.name, manifest, recorded=recorded),
        duration_seconds=(finished - started).total_seconds(),
    )


def _record_restore(job: Job, manifest: Manifest, started: datetime, finished: datetime) -> bool:
    """Record the finished restore; False if it could not be recorded (the user is told).

    The restore has committed by now: failing to record it must not turn a done restore into a reported failure.
    """
    record = RestoreRecord(
        command_id=job.command_id,
        database=job.database.name,
        backup_id=manifest.backup_id,
        source=manifest.database if manifest.database != job.database.name else "",
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
        return False
    return True


def restore_into(job: Job, target: Database, manifest: Manifest) -> None:
    """Stream the backup into `target`, checked against the manifest's checksum so that a corrupted or truncated
    object never completes a restore: PostgreSQL's single transaction rolls back when the held-back tail is not
    written; MySQL/MariaDB (no rollback of DDL) read the whole object once to check it before the first byte."""
    if not job.engine.transactional_restore:
        job.say(messages.VERIFYING)
        verify_stream(job.store.read(manifest.object_key, job.settings.read_chunk), manifest.sha256, stop=job.stop)
    with running(job.engine.restore(target), base_env=job.settings.tool_env, stdin=True) as tool:
        tool.kill_when(job.stop)
        try:
            chunks = job.store.read(manifest.object_key, job.settings.read_chunk)
            feed_verified(chunks, tool.stdin, manifest.sha256, stop=job.stop, progress=job.bytes_reporter())
        except BrokenPipeError:
            tool.finish()  # the tool quit early: its own error explains why
            raise
        tool.finish()


def _data_missing(job: Job, manifest: Manifest) -> BackupError:
    """Not retryable: the data will not come back. The manifest stays (the worker may not delete manifests)."""
    return BackupError(messages.data_missing(job.database.name, manifest), retryable=False)
