"""The long-running worker: one message at a time, kept invisible while it works, reported end to end."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from services.backup.connections import DB_ENV_PREFIX, Database, MisconfiguredDatabase
from services.backup.engines import ENGINES, DumpEngine
from services.backup.errors import BackupError, Interrupted, JobRejected
from services.backup.jobs import JOBS, PRECHECKS, SOURCE, Job, JobSettings
from services.backup.models import job_database
from services.backup.ports import BackupStore, JobQueue, QueueMessage
from shared.config.access import decide
from shared.config.model import SlashopsConfig
from shared.config.port import ConfigPort
from shared.errors import ConfigurationError
from shared.events.envelope import MalformedEventError, parse_eventbridge_json
from shared.events.models import CommandRequested
from shared.events.publisher import EventPublisher
from shared.events.reporter import CommandReporter, Reporter
from shared.logs import bind_command_id, log_context
from shared.slack.mrkdwn import code, mention, text

logger = logging.getLogger(__name__)
LOCKED_COMMANDS = frozenset({"backup", "restore"})
T = TypeVar("T")


class Disposition(Enum):
    DONE = "done"  # delete the message: the user has been told how it ended
    RETRY = "retry"  # make it visible again now, for the queue to deliver again
    LATER = "later"  # neither: it comes back once its visibility timeout runs out


class DuplicateDelivery(Exception):
    """Another delivery of this very command holds the database's lock: it is running, or died running.

    Reporting "busy" would record a failure as the final state of a command that is running (the ledger keeps the
    first final state), so nothing is published: the message comes back after its visibility timeout, when the
    running job has finished (a backup is then reported again, a restore answered "already restored").
    """


@dataclass
class WorkerDeps:
    queue: JobQueue
    store: BackupStore
    publisher: EventPublisher
    databases: Mapping[str, Database | MisconfiguredDatabase]
    settings: JobSettings
    #: the access rules and `backup.databases`, re-read on their TTL: every job is re-checked against them
    config: ConfigPort
    engines: Mapping[str, DumpEngine] = field(default_factory=lambda: dict(ENGINES))
    worker_id: str = "backup-worker"
    visibility_timeout: int = 120
    heartbeat_seconds: float = 30.0


def handle_message(message: QueueMessage, deps: WorkerDeps, stop: threading.Event) -> Disposition:
    """Run the job a message asks for and publish how it ended; never raises for a job's own failure.

    One log context per message: every line about it, the heartbeat's too, carries its command id.
    """
    with log_context():
        return _handle(message, deps, stop)


def _handle(message: QueueMessage, deps: WorkerDeps, stop: threading.Event) -> Disposition:
    try:
        request = parse_eventbridge_json(message.body)
    except MalformedEventError as error:
        logger.error("dropping a message that is not a slashops event: %s", error)
        return Disposition.DONE
    if not isinstance(request, CommandRequested) or request.command not in JOBS:
        logger.error("dropping an event the backup worker does not handle: %s", type(request).__name__)
        return Disposition.DONE
    bind_command_id(request.command_id)
    report = Reporter(deps.publisher, SOURCE).about_request(request)
    with _heartbeat(message, deps):
        return _run(request, deps, stop, report)


def _run(request: CommandRequested, deps: WorkerDeps, stop: threading.Event, report: CommandReporter) -> Disposition:
    try:
        config = _config(request, deps)
        _check_access(request, config)
        database = _database(request, deps, config)
        job = _job(request, database, deps, stop, report)
        PRECHECKS.get(request.command, lambda _: None)(job)
        with _database_lock(request, database, deps):
            report.accepted(_started(request, database))
            outcome = JOBS[request.command](job)
    except JobRejected as rejected:
        report.rejected(rejected.reason, rejected.hint or "")
    except Interrupted:
        report.progress("Interrupted: the worker is stopping; it will run again.")
        return Disposition.RETRY
    except DuplicateDelivery:
        logger.warning("another delivery of %s holds the lock; trying again later", request.command_id)
        return Disposition.LATER
    except BackupError as error:
        logger.warning("job failed", extra={"command_id": request.command_id, "problem": error.message})
        report.failed(error.message, retryable=error.retryable, output=error.output)
    except Exception as error:  # S3 or anything unforeseen: still the user hears how it ended
        logger.exception("job crashed", extra={"command_id": request.command_id})
        reason = f"Unexpected error ({type(error).__name__}: {text(str(error)[:200])})."
        report.failed(reason, retryable=True)
    else:
        report.succeeded(outcome.summary, output=outcome.output, duration=outcome.duration_seconds)
    return Disposition.DONE


def _config(request: CommandRequested, deps: WorkerDeps) -> SlashopsConfig:
    """The current configuration; while it is unusable every command is answered with that, and nothing runs."""
    try:
        return deps.config.get()
    except ConfigurationError as error:
        logger.error("configuration error, refusing %s: %s", request.command_id, error.message)
        raise BackupError(
            f"slashops is misconfigured, so {code(request.command)} was not run. The admins see the details in the "
            "backup worker's logs; commands work again once the configuration is fixed.",
            retryable=True,
        ) from error


def _check_access(request: CommandRequested, config: SlashopsConfig) -> None:
    """The ingress checked the caller when the command was typed; check again against the rules as they are now.

    This catches rules changed since, and a `CommandRequested` that did not come from the ingress. It cannot
    catch a forged event naming an allowed user: that is what the bus rule's source and IAM are for.
    """
    decision = decide(
        config.access,
        command=request.command,
        user_id=request.actor.user_id,
        user_name=request.actor.user_name,
        channel_id=request.place.channel_id,
        channel_name=request.place.channel_name,
    )
    if not decision.allowed:
        logger.warning(
            "refusing %s: %s may not run %s now (%s)",
            request.command_id,
            request.actor.user_id,
            request.command,
            decision.reason,
        )
        raise JobRejected(
            f"{mention(request.actor.user_id)} is not allowed to run {code(request.command)} in this channel (the "
            "access rules changed, or the request did not come from the ingress). Nothing was run.",
            hint=f"Ask an admin to add you to the {code(request.command)} rule of the slashops configuration.",
        )


def _database(request: CommandRequested, deps: WorkerDeps, config: SlashopsConfig) -> Database:
    name = job_database(request)
    wanted = config.backup.databases
    usable = {key: db for key, db in deps.databases.items() if not wanted or key in wanted}
    database = usable.get(name)
    if isinstance(database, MisconfiguredDatabase):
        raise BackupError(
            f"Database {code(name)} is misconfigured ({database.variable}: {text(database.problem)}); the admins "
            "have the details. Nothing was run.",
        )
    if database is None:
        if name in wanted:
            variable = f"{DB_ENV_PREFIX}{name.upper()}"
            raise BackupError(f"Database {code(name)} is configured but the backup worker has no {variable}.")
        known = ", ".join(code(known) for known in sorted(usable)) or "none yet"
        raise JobRejected(f"{code(name)} is not a database slashops backs up.", hint=f"Configured databases: {known}.")
    return database


@contextlib.contextmanager
def _database_lock(request: CommandRequested, database: Database, deps: WorkerDeps) -> Iterator[None]:
    """Backups and restores of one database never overlap, across every worker (listing needs no lock)."""
    if request.command not in LOCKED_COMMANDS:
        yield
        return
    holder = deps.store.acquire_lock(database.name, f"{request.command} {request.command_id} on {deps.worker_id}")
    if holder is not None and request.command_id in holder.split():
        raise DuplicateDelivery(request.command_id)
    if holder is not None:
        busy = f"{code(database.name)} is busy: {text(holder)} is running. Try again when it ends."
        raise BackupError(busy, retryable=True)
    try:
        yield
    finally:
        deps.store.release_lock(database.name)


def _job(
    request: CommandRequested,
    database: Database,
    deps: WorkerDeps,
    stop: threading.Event,
    report: CommandReporter,
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


@contextlib.contextmanager
def _heartbeat(message: QueueMessage, deps: WorkerDeps) -> Iterator[None]:
    """Keep the message invisible while the job runs, however long it takes."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(deps.heartbeat_seconds):
            try:
                deps.queue.extend(message, deps.visibility_timeout)
            except Exception:  # a missed beat is not fatal; the next one may succeed
                logger.warning("could not extend the message's visibility", exc_info=True)

    # In a copy of this context: its warnings carry the message's command id too.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(beat,), name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


def _started(request: CommandRequested, database: Database) -> str:
    verbs = {"backup": "Backing up", "backups": "Listing the backups of", "restore": "Restoring"}
    return f"{verbs[request.command]} {code(database.name)} ({text(database.engine)})…"


@dataclass(frozen=True)
class Backoff:
    """Capped exponential waits between attempts of a queue call that failed (endpoint gone, throttled, ...)."""

    first_seconds: float = 1.0
    max_seconds: float = 60.0

    def wait(self, attempt: int) -> float:
        return min(self.max_seconds, self.first_seconds * 2 ** (attempt - 1))


def serve(
    deps: WorkerDeps,
    stop: threading.Event,
    *,
    wait_seconds: int = 20,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], object] | None = None,
) -> None:
    """Long-poll until `stop` is set; a job interrupted by `stop` goes back to the queue.

    Only `stop` ends it: queue failures are retried with backoff, a message whose handling crashed is released.
    `sleep` defaults to waiting on `stop`, so SIGTERM cuts a backoff short.
    """
    retry = _Retry(stop, backoff, sleep or stop.wait)
    while not stop.is_set():
        for message in retry("receive", lambda: deps.queue.receive(wait_seconds)) or []:
            _serve_one(message, deps, stop, retry)


def _serve_one(message: QueueMessage, deps: WorkerDeps, stop: threading.Event, retry: _Retry) -> None:
    disposition = Disposition.RETRY
    if not stop.is_set():
        try:
            disposition = handle_message(message, deps, stop)
        except Exception:  # the bus refused the result, a bug, ...: the queue redelivers it, then its DLQ keeps it
            logger.exception("handling a message crashed; releasing it for another attempt")
    # Past the visibility timeout the message is delivered again anyway: retrying longer than that is pointless.
    # Giving up on a delete means the job runs again (a backup is then reported, not redone).
    if disposition is Disposition.DONE:
        retry("delete", lambda: deps.queue.delete(message), budget_seconds=deps.visibility_timeout)
    elif disposition is Disposition.RETRY:
        retry("release", lambda: deps.queue.release(message), budget_seconds=deps.visibility_timeout)


@dataclass(frozen=True)
class _Retry:
    stop: threading.Event
    backoff: Backoff
    pause: Callable[[float], object]

    def __call__(self, name: str, call: Callable[[], T], *, budget_seconds: float | None = None) -> T | None:
        """`call()` until it succeeds, `stop` is set, or the waits would exceed `budget_seconds` (then None).

        One attempt is made even after `stop` (a message must still be released); only the retries stop.
        """
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                return call()
            except Exception as error:  # botocore raises many unrelated types; all mean "the queue is unreachable"
                wait = self.backoff.wait(attempt)
                if self.stop.is_set() or (budget_seconds is not None and waited + wait > budget_seconds):
                    logger.error("queue %s failed (attempt %d), giving up: %s", name, attempt, _describe(error))
                    return None
                logger.warning(
                    "queue %s failed (attempt %d): %s; retrying in %.1f s", name, attempt, _describe(error), wait
                )
                self.pause(wait)
                waited += wait
                if self.stop.is_set():
                    return None


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"
