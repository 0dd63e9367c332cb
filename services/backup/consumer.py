"""Message → use case: the checks every command shares, done once, then the command's use case.

Every message gets, in order: parsing (anything that is not a `CommandRequested` for this worker is dropped),
the current configuration, the caller re-checked against the access rules as they are now, the database, the
use case's precheck (which may refuse before the user is told it started), the database's lock (for the use
cases that change a database), then the run. Whatever happens, the user hears how it ended — except for a
second delivery of a command that is running (see `DuplicateDelivery`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from typing import Any

from services.backup import messages
from services.backup.backing_up import back_up
from services.backup.connections import DB_ENV_PREFIX, Database, MisconfiguredDatabase
from services.backup.deps import BackupDeps
from services.backup.errors import BackupError, DuplicateDelivery, Interrupted, JobRejected
from services.backup.heartbeat import keep_invisible
from services.backup.job import Job, Outcome, UseCase
from services.backup.listing import list_backups
from services.backup.models import job_database
from services.backup.ports import QueueMessage
from services.backup.restoring import check_restore, restore
from shared.config.access import recheck
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError
from shared.events.envelope import MalformedEventError, parse_eventbridge_json
from shared.events.models import CommandRequested
from shared.events.reporter import CommandReporter
from shared.incidents import open_incident
from shared.logs import bind_command_id, log_context
from shared.slack.messages import misconfigured, not_allowed_now

logger = logging.getLogger(__name__)


class Disposition(Enum):
    DONE = "done"  # delete the message: the user has been told how it ended
    RETRY = "retry"  # make it visible again now, for the queue to deliver again
    LATER = "later"  # neither: it comes back once its visibility timeout runs out


def _unchecked(run: Callable[[Job], Outcome], *, locked: bool) -> UseCase[None]:
    return UseCase(run=lambda job, _: run(job), precheck=lambda job: None, locked=locked)


USE_CASES: Mapping[str, UseCase[Any]] = {
    "backup": _unchecked(back_up, locked=True),
    "backups": _unchecked(list_backups, locked=False),
    "restore": UseCase(run=restore, precheck=check_restore, locked=True),
}
"""The commands routed to this worker (`shared.commands.routing`; a unit test checks they agree).

`BackupDeps.use_cases` defaults to this; tests may inject another registry (tests/unit/test_adding_a_command.py).
"""


def handle_message(message: QueueMessage, deps: BackupDeps, stop: threading.Event) -> Disposition:
    """Run the job a message asks for and publish how it ended; never raises for a job's own failure.

    One log context per message: every line about it, the heartbeat's too, carries its command id.
    """
    with log_context():
        request = _parse(message, deps)
        if request is None:
            return Disposition.DONE
        bind_command_id(request.command_id)
        with keep_invisible(message, deps.queue, timeout=deps.visibility_timeout, every=deps.heartbeat_seconds):
            return _run(request, deps, stop)


def _parse(message: QueueMessage, deps: BackupDeps) -> CommandRequested | None:
    try:
        request = parse_eventbridge_json(message.body)
    except MalformedEventError as error:
        logger.error("dropping a message that is not a slashops event: %s", error)
        return None
    if not isinstance(request, CommandRequested) or request.command not in deps.use_cases:
        logger.error("dropping an event the backup worker does not handle: %s", type(request).__name__)
        return None
    return request


def _run(request: CommandRequested, deps: BackupDeps, stop: threading.Event) -> Disposition:
    report = deps.reporter.about_request(request)
    use_case = deps.use_cases[request.command]
    try:
        config = _config(request, deps)
        _check_access(request, config, deps)
        database = _database(request, deps, config)
        report = report.doing(messages.activity(request.command, database.name, request.arguments))
        job = _job(request, database, deps, stop, report)
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
    return Disposition.DONE


def _config(request: CommandRequested, deps: BackupDeps) -> SlashopsConfig:
    """The current configuration; while it is unusable every command is answered with that, and nothing runs."""
    try:
        return deps.config.get()
    except ConfigurationError as error:
        incident = open_incident(error, where="backup worker", command_id=request.command_id)
        raise BackupError(misconfigured(incident, request.command), retryable=True) from error


def _incident(problem: str, request: CommandRequested) -> str:
    """The variable's name and problem go to the logs under an incident id; the user reads the id."""
    return open_incident(ConfigurationError(problem), where="backup worker", command_id=request.command_id)


def _check_access(request: CommandRequested, config: SlashopsConfig, deps: BackupDeps) -> None:
    if not recheck(request, config, deps.groups, names=deps.names).allowed:
        reason, hint = not_allowed_now(request.actor.user_id, request.command)
        raise JobRejected(reason, hint=hint)


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
    request: CommandRequested, database: Database, deps: BackupDeps, stop: threading.Event, report: CommandReporter
) -> Job:
    return Job(
        command_id=request.command_id,
        requested_by=request.actor.user_name or request.actor.user_id,
        arguments=request.arguments,
        database=database,
        engine=deps.engines[database.engine],
        store=deps.store,
        stop=stop,
        say=report.progress,
        settings=deps.settings,
    )
