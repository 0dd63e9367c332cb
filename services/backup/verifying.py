"""`verify`: a tested restore. The backup (default: the newest) is restored into a scratch database created for it
on the database's own server, each table's row count is compared with the counts the manifest recorded at backup
time, and the scratch database is dropped whatever happens. The database itself is never touched.

The result is kept beside the backup (`Verification`, one record per command; `backups` shows the newest). A
backup whose object is truncated or changed fails here as it would fail a `restore`: the object's size is checked
first (one HEAD), its checksum while it streams (the scratch restore never completes on a mismatch).

Scratch databases are named `slashops_verify_<database's tag>_<command id>`. Verify holds its database's lock (as
backup and restore do), so a scratch database of that database that exists when it starts was left by a verify
that died (the worker killed, the host lost): it is dropped first, and the reply says so.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from services.backup import messages
from services.backup.adapters.engines import on
from services.backup.adapters.tools import parse_counts, run_tool
from services.backup.errors import BackupDataMissing, BackupError, ChecksumMismatch, Interrupted, ObjectExists
from services.backup.job import Job, Outcome
from services.backup.models import Manifest, Mismatch, ScratchState, Verification
from services.backup.reading import reading
from services.backup.restoring import find_backup, refused, restore_into

logger = logging.getLogger(__name__)
SCRATCH_PREFIX = "slashops_verify_"
SHOWN_MISMATCHES = 5
"""The most table mismatches one reply names (the record keeps the same)."""


def check_verify(job: Job) -> Manifest:
    """The backup to verify: `--from` (a backup of this database), else the newest; refused before anything starts
    if there is none."""
    database = job.database.name
    if job.arguments.get("from"):
        manifest = find_backup(job)
        if manifest.database != database:
            raise refused(messages.not_a_backup_of(database, manifest))
        return manifest
    newest = job.store.manifests(database)
    if not newest:
        raise refused(messages.nothing_to_verify(database))
    return newest[0]


@dataclass(frozen=True)
class Checked:
    """What the scratch restore found: no problem (passed), or the problem, and how many tables were compared."""

    problem: str = ""
    tables: int = 0
    rows: int = 0
    cleaned: tuple[str, ...] = ()
    scratch: ScratchState = "none"
    """`none` (no scratch database was made), `dropped`, or `left` (the drop failed: the user was told)."""


@dataclass
class _Scratch:
    name: str
    state: ScratchState = "none"


def verify(job: Job, manifest: Manifest) -> Outcome:
    started = job.now()
    try:
        with reading(job.store, manifest, reader=job.command_id):  # pruning leaves it alone meanwhile
            checked = _check(job, manifest)
    except BackupDataMissing as error:  # deleted since the precheck
        missing = messages.data_missing(job.database.name, manifest, verifying=True)
        raise BackupError(missing, retryable=False) from error
    finished = job.now()
    verification = Verification(
        command_id=job.command_id,
        database=job.database.name,
        backup_id=manifest.backup_id,
        passed=not checked.problem,
        verified_by=job.requested_by,
        started_at=started,
        finished_at=finished,
        tables=checked.tables,
        problem=checked.problem,
    )
    recorded = _record(job, verification)
    notes = [messages.scratch_cleaned(name) for name in checked.cleaned]
    if not recorded:
        notes.append(messages.VERIFICATION_NOT_RECORDED)
    if checked.problem:
        failed = messages.verify_failed(verification, job.database.name, checked.scratch, [checked.problem, *notes])
        raise BackupError(failed, retryable=False)
    summary = messages.verified(verification, manifest, checked.rows, checked.scratch, notes)
    return Outcome(summary=summary, duration_seconds=verification.duration_seconds)


def _check(job: Job, manifest: Manifest) -> Checked:
    """The verification's verdict on the backup; raises only when the backup could not be put to the test (the
    server refused a scratch database, S3 failed, the worker is stopping): nothing is recorded then."""
    size = job.store.size(manifest.object_key)
    if size is None:
        raise BackupError(messages.data_missing(job.database.name, manifest, verifying=True), retryable=False)
    if size != manifest.size_bytes:
        return Checked(problem=messages.wrong_size_found(manifest, size))
    cleaned = _drop_leftovers(job)
    scratch = _Scratch(scratch_name(job.database.name, job.command_id))
    counts = _restore_and_count(job, manifest, scratch)
    if isinstance(counts, ChecksumMismatch):
        problem = messages.corrupted(counts.actual, counts.expected)
        return Checked(problem=problem, cleaned=cleaned, scratch=scratch.state)
    if isinstance(counts, BackupError):
        problem = messages.scratch_restore_failed(counts.message, counts.output)
        return Checked(problem=problem, cleaned=cleaned, scratch=scratch.state)
    expected, rows = manifest.tables, sum(counts.values())
    if expected is None:  # a manifest from before row counts were recorded: the restore itself is the test
        return Checked(rows=rows, cleaned=cleaned, scratch=scratch.state)
    mismatches = differences(expected, counts)
    problem = messages.rows_differ(mismatches, len(expected), SHOWN_MISMATCHES) if mismatches else ""
    return Checked(problem=problem, tables=len(expected), rows=rows, cleaned=cleaned, scratch=scratch.state)


def _restore_and_count(job: Job, manifest: Manifest, scratch: _Scratch) -> dict[str, int] | BackupError:
    """Create the scratch database, restore into it, count its rows; dropped whatever happens.

    The counts, or why the backup did not restore (a verdict on it: a `ChecksumMismatch`, or the restore tool's or
    the count's failure). Raises when it could not be put to the test (no scratch database, stopping, S3)."""
    name, tools = scratch.name, job.settings.tool_env
    try:
        run_tool(job.engine.create_database(job.database, name), base_env=tools, timeout=120)
    except BackupError as error:
        raise BackupError(messages.scratch_not_created(job.database, name), output=error.output) from error
    there = on(job.database, name)
    try:
        job.say(messages.verifying_into(name))
        try:
            restore_into(job, there, manifest)
            return parse_counts(run_tool(job.engine.count_rows(there), base_env=tools))
        except Interrupted:
            raise
        except BackupError as error:  # ChecksumMismatch among them
            return error
    finally:
        scratch.state = "dropped" if _drop(job, name) else "left"


def _drop(job: Job, name: str) -> bool:
    """Never raises: a drop that fails is said (with what to run) and logged; the next verify drops it too."""
    try:
        run_tool(job.engine.drop_database(job.database, name), base_env=job.settings.tool_env, timeout=300)
    except BackupError as error:
        logger.error("could not drop the scratch database %s: %s %s", name, error.message, error.output)
        job.say(messages.scratch_left(job.database.name, name))
        return False
    return True


def _drop_leftovers(job: Job) -> tuple[str, ...]:
    """Scratch databases of this database that exist now were left by a verify that died (this one holds the lock)."""
    prefix, tools = scratch_prefix(job.database.name), job.settings.tool_env
    try:
        listed = run_tool(job.engine.list_databases(job.database, prefix), base_env=tools, timeout=60)
        leftovers = tuple(name for name in (line.strip() for line in listed.splitlines()) if name.startswith(prefix))
        for name in leftovers:
            logger.warning("dropping %s, left by a verify of %s that did not finish", name, job.database.name)
            run_tool(job.engine.drop_database(job.database, name), base_env=tools, timeout=300)
    except BackupError as error:
        raise BackupError(messages.leftovers_not_dropped(job.database, prefix), output=error.output) from error
    return leftovers


def scratch_prefix(database: str) -> str:
    """`slashops_verify_<tag>_`: the tag (from the database's name in commands) keeps each database's scratch
    databases apart on a shared server, within PostgreSQL's 63-character names."""
    return f"{SCRATCH_PREFIX}{hashlib.sha256(database.encode()).hexdigest()[:8]}_"


def scratch_name(database: str, command_id: str) -> str:
    return f"{scratch_prefix(database)}{command_id[:12]}"


def differences(expected: dict[str, int], found: dict[str, int]) -> list[Mismatch]:
    """Every table whose counts differ (None: missing on that side), by name, so the first shown are always the
    same."""
    tables = sorted(set(expected) | set(found))
    return [
        Mismatch(table, expected.get(table), found.get(table))
        for table in tables
        if expected.get(table) != found.get(table)
    ]


def _record(job: Job, verification: Verification) -> bool:
    """Keep the result with the backup; False if it could not be written (the reply says so)."""
    try:
        job.store.put_verification(verification)
    except ObjectExists:
        pass  # this command's result is recorded already
    except Exception:  # S3 unreachable, access denied, ...: the verification itself is done
        logger.exception("could not record verification %s of %s", job.command_id, verification.backup_id)
        return False
    return True
