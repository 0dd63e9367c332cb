"""Message → use case: the checks every command shares, done once, then the command's use case.

Every message gets, in order: parsing (anything that is not a `CommandRequested` the catalog routes to this
worker is dropped), the one consumer pipeline's checks (`shared.pipeline.admit`: the current configuration, the
caller re-checked against the access rules as they are now), the database, the use case's precheck (which may
refuse before the user is told it started), the database's lock (for the use cases that change a database), then
the run. Whatever happens, the user hears how it ended — except for a
second delivery of a command that is running (see `DuplicateDelivery`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

from services.backup import messages, scheduling
from services.backup.connections import DB_ENV_PREFIX, Database, MisconfiguredDatabase
from services.backup.deps import UNIT, BackupDeps
from services.backup.errors import BackupError, DuplicateDelivery, Interrupted, JobRejected
from services.backup.heartbeat import keep_invisible
from services.backup.job import Job, UseCase
from services.backup.models import job_database
from services.backup.ports import QueueMessage
from shared.commands.references import resolve
from shared.commands.spec import CommandSpec
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError
from shared.events.envelope import MalformedEventError, parse_eventbridge_json
from shared.events.models import CommandRequested
from shared.events.reporter import CommandReporter
from shared.incidents import open_incident
from shared.logs import bind_command_id, log_context
from shared.pipeline import Authorized, admit

logger = logging.getLogger(__name__)


class Disposition(Enum):
    DONE = "done"  # delete the message: the user has been told how it ended
    RETRY = "retry"  # make it visible again now, for the queue to deliver again
    LATER = "later"  # neither: it comes back once its visibility timeout runs out


def use_case_of(spec: CommandSpec) -> UseCase[Any]:
    """How the worker runs a command, from its declaration: `runs`, its `precheck` (if any), `exclusive`."""
    if spec.runs is None:
        raise ConfigurationError(f"command {spec.name!r} is routed to the backup worker but declares no `runs`")
    run = resolve(spec.runs)
    if spec.precheck is None:
        return UseCase(run=lambda job, _: run(job), precheck=lambda job: None, locked=spec.exclusive)
    return UseCase(run=run, precheck=resolve(spec.precheck), locked=spec.exclusive)


def handle_message(message: QueueMessage, deps: BackupDeps, stop: threading.Event) -> Disposition:
    """Run the job a message asks for and publish how it ended; never raises for a job's own failure.

    One log context per message: every line about it, the heartbeat's too, carries its command id.
    """
    with log_context():
        scheduled = _scheduled(message, deps)
        if isinstance(scheduled, Disposition):
            return scheduled
        if scheduled is not None:
            bind_command_id(scheduled.request.command_id)
            with keep_invisible(message, deps.queue, timeout=deps.visibility_timeout, every=deps.heartbeat_seconds):
                report = deps.reporter.about_request(scheduled.request)
                return _execute(scheduled, report, deps, stop, succeeded=_count_scheduled_success)
        request = _parse(message, deps)
        if request is None:
            return Disposition.DONE
        bind_command_id(request.command_id)
        with keep_invisible(message, deps.queue, timeout=deps.visibility_timeout, every=deps.heartbeat_seconds):
            return _run(request, deps, stop)


def _scheduled(message: QueueMessage, deps: BackupDeps) -> Authorized | Disposition | None:
    """A `ScheduleFired` (services/backup/scheduling.py): the command its configured entry runs, published for the
    ledger; a disposition when nothing runs; None when the message is no firing (a typed command's)."""
    try:
        fired = scheduling.fired_in(message.body)
    except MalformedEventError as error:
        logger.error("dropping a message: %s", error)
        return Disposition.DONE
    if fired is None:
        return None
    try:
        config = deps.config.get()
    except ConfigurationError as error:  # nobody to answer: the firing waits, and ends in the DLQ if it lasts
        open_incident(error, where="backup worker (schedule)", command_id=scheduling.command_id_for(fired))
        return Disposition.LATER
    admitted = scheduling.admit_firing(fired, config, deps.catalog, unit=UNIT)
    if isinstance(admitted, scheduling.Refusal):
        logger.error("REFUSED a ScheduleFired event, nothing runs: %s", admitted.reason)
        return Disposition.DONE
    logger.info("schedule %s fired: running %s", fired.schedule, admitted.request.command_id)
    deps.publisher.publish([admitted.request])  # the notifier records it: `status` and `history` show it
    return admitted


def _parse(message: QueueMessage, deps: BackupDeps) -> CommandRequested | None:
    try:
        request = parse_eventbridge_json(message.body)
    except MalformedEventError as error:
        logger.error("dropping a message that is not a slashops event: %s", error)
        return None
    if not isinstance(request, CommandRequested) or not _routed_here(request.command, deps):
        logger.error("dropping an event the backup worker does not handle: %s", type(request).__name__)
        return None
    return request


def _routed_here(command: str, deps: BackupDeps) -> bool:
    spec = deps.catalog.get(command)
    return spec is not None and spec.consumer == UNIT


def _run(request: CommandRequested, deps: BackupDeps, stop: threading.Event) -> Disposition:
    report = deps.reporter.about_request(request)
    authorized = admit(request, deps, report, where="backup worker")
    if authorized is None:
        return Disposition.DONE
    return _execute(authorized, report, deps, stop)


def _execute(
    authorized: Authorized,
    report: CommandReporter,
    deps: BackupDeps,
    stop: threading.Event,
    *,
    succeeded: Callable[[Authorized], None] = lambda _: None,
) -> Disposition:
    """The admitted command's use case, and how it ended reported (a typed command's and a schedule's alike);
    `succeeded` is called after a success was reported."""
    request = authorized.request
    spec = deps.catalog.get(request.command)
    assert spec is not None  # `_parse` and `scheduling.admit_firing` let only the worker's commands through
    try:
        use_case = use_case_of(spec)
        database = _database(request, deps, authorized.config)
        report = report.doing(messages.activity(request.command, database.name, request.arguments))
        job = _job(request, database, deps, stop, report, authorized.config)
        job.retention = authorized.config.backup.retention_for(database.name)
        found = use_case.precheck(job)
        with _database_lock(request, database, deps, locked=use_case.locked):
            report.accepted(messages.started(request.command, database))
            outcome = use_case.run(job, found)
    except JobRejected as rejected:
        report.rejected(rejected.reason, rejected.hint or "")
    except Interrupted:
        report.progress(messages.INTERRUPTED)
        return Disposition.RETRY
    except DuplicateDelivery:
        logger.warning("another delivery of %s holds the lock; trying again later", request.command_id)
        return Disposition.LATER
    except BackupError as error:
        logger.warning("job failed", extra={"command_id": request.command_id, "problem": error.message})
        report.failed(error.message, retryable=error.retryable, output=error.output)
    except Exception as error:  # S3 or anything unforeseen: still the user hears how it ended
        logger.exception("job crashed", extra={"command_id": request.command_id})
        report.failed(messages.unexpected(error), retryable=True)
    else:
        report.succeeded(outcome.summary, output=outcome.output, duration=outcome.duration_seconds)
        succeeded(authorized)
    return Disposition.DONE


def _count_scheduled_success(authorized: Authorized) -> None:
    """The metric the missed-schedule alarm watches (best effort: the backup itself succeeded, and was reported)."""
    request = authorized.request
    label = request.actor.user_id.removeprefix(scheduling.ACTOR_PREFIX)
    entry = next((e for e in scheduling.scheduled_runs(authorized.config) if e.label == label), None)
    try:
        if entry is not None:
            scheduling.record_success(entry.aws_name, entry.kind)
    except Exception:  # the alarm may then fire for a schedule that ran: the log says why
        logger.exception("could not write the %s metric for schedule %s", request.command, label)


def _incident(problem: str, request: CommandRequested) -> str:
    """The variable's name and problem go to the logs under an incident id; the user reads the id."""
    return open_incident(ConfigurationError(problem), where="backup worker", command_id=request.command_id)


def _database(request: CommandRequested, deps: BackupDeps, config: SlashopsConfig) -> Database:
    name = job_database(request)
    wanted = config.backup.databases
    usable = {key: db for key, db in deps.databases.items() if not wanted or key in wanted}
    database = usable.get(name)
    if isinstance(database, MisconfiguredDatabase):
        problem = f"database {name}: {database.variable} is invalid ({database.problem})"
        raise BackupError(messages.database_misconfigured(name, _incident(problem, request)))
    if database is None:
        if name in wanted:
            problem = f"database {name} is configured but {DB_ENV_PREFIX}{name.upper()} is not set"
            raise BackupError(messages.database_misconfigured(name, _incident(problem, request)))
        reason, hint = messages.unknown_database(name, list(usable), restricted=bool(wanted))
        raise JobRejected(reason, hint=hint)
    return database


@contextlib.contextmanager
def _database_lock(request: CommandRequested, database: Database, deps: BackupDeps, *, locked: bool) -> Iterator[None]:
    """Backups and restores of one database never overlap, across every worker (listing needs no lock)."""
    if not locked:
        yield
        return
    holder = deps.store.acquire_lock(database.name, f"{request.command} {request.command_id} on {deps.worker_id}")
    if holder is not None and request.command_id in holder.split():
        raise DuplicateDelivery(request.command_id)
    if holder is not None:
        raise BackupError(messages.busy(database.name, holder), retryable=True)
    try:
        yield
    finally:
        deps.store.release_lock(database.name)


def _job(
    request: CommandRequested,
    database: Database,
    deps: BackupDeps,
    stop: threading.Event,
    report: CommandReporter,
    config: SlashopsConfig,
) -> Job:
    return Job(
        command_id=request.command_id,
        requested_by=request.actor.user_id,  # an ID (shown as a mention), never the name the request carries
        arguments=request.arguments,
        database=database,
        engine=deps.engines[database.engine],
        store=deps.store,
        stop=stop,
        say=report.progress,
        settings=deps.settings,
        backup_config=config.backup,
    )
