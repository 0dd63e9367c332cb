"""`restore`: replace a database with one of its backups, verified, at most once per command id."""

from __future__ import annotations

import logging
from datetime import datetime

from services.backup import messages
from services.backup.adapters.tools import running
from services.backup.errors import BackupDataMissing, BackupError, JobRejected, ObjectExists
from services.backup.job import Job, Outcome
from services.backup.models import Manifest, RestoreRecord
from services.backup.streaming import feed_verified, verify_stream

logger = logging.getLogger(__name__)


def check_restore(job: Job) -> Manifest:
    """The backup exists and the user confirmed by naming the database; otherwise nothing starts.

    Runs before the user is told the restore started; the manifest it finds is the one `restore` uses.
    """
    backup_id = str(job.arguments.get("from") or "")
    manifest = job.store.manifest(job.database.name, backup_id)
    if manifest is None:
        reason, hint = messages.no_such_backup(job.database.name, backup_id)
        raise JobRejected(reason, hint=hint)
    if not job.store.exists(manifest.object_key):
        raise _data_missing(job, manifest)
    if job.arguments.get("confirm") != job.database.name:
        reason, hint = messages.confirm_restore(job.database.name, manifest)
        raise JobRejected(reason, hint=hint)
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
        _restore_from(job, manifest)
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


def _restore_from(job: Job, manifest: Manifest) -> None:
    if not job.engine.transactional_restore:
        job.say(messages.VERIFYING)
        verify_stream(job.store.read(manifest.object_key, job.settings.read_chunk), manifest.sha256, stop=job.stop)
    with running(job.engine.restore(job.database), base_env=job.settings.tool_env, stdin=True) as tool:
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
