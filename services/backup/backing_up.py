"""`backup`: stream a dump into a new object, then write its manifest — a backup without one does not exist."""

from __future__ import annotations

from services.backup import messages
from services.backup.adapters.tools import running, server_version
from services.backup.job import Job, Outcome
from services.backup.models import Manifest, backup_id_for, object_key
from services.backup.pruning import prune
from services.backup.retention import Pruning
from services.backup.streaming import upload_stream


def back_up(job: Job) -> Outcome:
    already = job.store.backup_by_command(job.database.name, job.command_id)
    if already is not None:  # a redelivered message whose backup had completed: report it again, don't dump twice
        return backed_up(already)
    started = job.now()
    backup_id = backup_id_for(job.database.name, started, job.command_id)
    key = object_key(job.database.name, backup_id)
    with (
        job.engine.counting(job.database, base_env=job.settings.tool_env) as rows,
        running(job.engine.dump(job.database, rows.dump_options), base_env=job.settings.tool_env) as dump,
    ):
        dump.kill_when(job.stop)
        upload = job.store.start_upload(key)  # while the dump connects and reads the catalog
        try:
            streamed = upload_stream(
                dump.stdout,
                upload,
                part_size=job.settings.part_size,
                stop=job.stop,
                progress=job.bytes_reporter(),
                observe=rows.feed,
            )
            dump.finish()
            tables = rows.counts()  # before the upload completes: a backup whose rows could not be counted fails
            upload.complete()
        except BaseException:
            upload.abort()
            raise
    version = job.engine.version_in_dump(streamed.head) or server_version(
        job.engine, job.database, base_env=job.settings.tool_env
    )
    manifest = Manifest(
        backup_id=backup_id,
        database=job.database.name,
        engine=job.engine.name,
        server_version=version,
        object_key=key,
        size_bytes=streamed.size,
        sha256=streamed.sha256,
        tables=tables,
        created_by=job.requested_by,
        command_id=job.command_id,
        started_at=started,
        finished_at=job.now(),
    )
    job.store.put_manifest(manifest)
    return backed_up(manifest, prune(job, manifest))


def backed_up(manifest: Manifest, pruning: Pruning | None = None) -> Outcome:
    summary, output = messages.backed_up(manifest)
    if pruning is not None:  # the database has a retention policy: say what it deleted, or why it did not
        summary += "\n" + messages.pruning(manifest.database, pruning)
    return Outcome(summary=summary, output=output, duration_seconds=manifest.duration_seconds)
