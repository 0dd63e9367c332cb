"""The long-running worker: one message at a time, kept invisible while it works, reported end to end."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TypedDict

from services.backup.connections import Database
from services.backup.engines import ENGINES, DumpEngine
from services.backup.errors import BackupError, Interrupted, JobRejected
from services.backup.jobs import JOBS, PRECHECKS, SOURCE, Job, JobSettings, Outcome
from services.backup.models import job_database
from services.backup.ports import BackupStore, JobQueue, QueueMessage
from shared.events.envelope import MalformedEventError, parse_eventbridge_json
from shared.events.models import (
    CommandAccepted,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandRequested,
    CommandSucceeded,
    ReplyTarget,
    ResultEvent,
)
from shared.events.publisher import EventPublisher
from shared.slack.mrkdwn import code, text

logger = logging.getLogger(__name__)
LOCKED_COMMANDS = frozenset({"backup", "restore"})


class Disposition(Enum):
    DONE = "done"  # delete the message: the user has been told how it ended
    RETRY = "retry"  # leave it for the queue to deliver again


@dataclass
class WorkerDeps:
    queue: JobQueue
    store: BackupStore
    publisher: EventPublisher
    databases: Mapping[str, Database]
    settings: JobSettings
    engines: Mapping[str, DumpEngine] = field(default_factory=lambda: dict(ENGINES))
    worker_id: str = "backup-worker"
    visibility_timeout: int = 120
    heartbeat_seconds: float = 30.0


def handle_message(message: QueueMessage, deps: WorkerDeps, stop: threading.Event) -> Disposition:
    """Run the job a message asks for and publish how it ended; never raises for a job's own failure."""
    try:
        request = parse_eventbridge_json(message.body)
    except MalformedEventError as error:
        logger.error("dropping a message that is not a slashops event: %s", error)
        return Disposition.DONE
    if not isinstance(request, CommandRequested) or request.command not in JOBS:
        logger.error("dropping an event the backup worker does not handle: %s", type(request).__name__)
        return Disposition.DONE
    publish = _publisher_for(request, deps)
    with _heartbeat(message, deps):
        return _run(request, deps, stop, publish)


def _run(
    request: CommandRequested, deps: WorkerDeps, stop: threading.Event, publish: Callable[[ResultEvent], None]
) -> Disposition:
    try:
        database = _database(request, deps)
        job = _job(request, database, deps, stop, publish)
        PRECHECKS.get(request.command, lambda _: None)(job)
        with _database_lock(request, database, deps):
            publish(CommandAccepted(**_base(request), message=_started(request, database)))
            outcome = JOBS[request.command](job)
    except JobRejected as rejected:
        publish(CommandRejected(**_base(request), reason=rejected.reason, hint=rejected.hint))
    except Interrupted:
        publish(CommandProgress(**_base(request), message="Interrupted: the worker is stopping; it will run again."))
        return Disposition.RETRY
    except BackupError as error:
        logger.warning("job failed", extra={"command_id": request.command_id, "problem": error.message})
        publish(CommandFailed(**_base(request), reason=error.message, retryable=error.retryable, output=error.output))
    except Exception as error:  # S3 or anything unforeseen: still the user hears how it ended
        logger.exception("job crashed", extra={"command_id": request.command_id})
        reason = f"Unexpected error ({type(error).__name__}: {text(str(error)[:200])})."
        publish(CommandFailed(**_base(request), reason=reason, retryable=True))
    else:
        publish(_succeeded(request, outcome))
    return Disposition.DONE


def _database(request: CommandRequested, deps: WorkerDeps) -> Database:
    name = job_database(request)
    database = deps.databases.get(name)
    if database is None:
        known = ", ".join(code(known) for known in sorted(deps.databases)) or "none yet"
        raise JobRejected(f"{code(name)} is not a database slashops backs up.", hint=f"Configured databases: {known}.")
    return database


@contextlib.contextmanager
def _database_lock(request: CommandRequested, database: Database, deps: WorkerDeps) -> Iterator[None]:
    """Backups and restores of one database never overlap, across every worker (listing needs no lock)."""
    if request.command not in LOCKED_COMMANDS:
        yield
        return
    holder = deps.store.acquire_lock(database.name, f"{request.command} {request.command_id} on {deps.worker_id}")
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
    publish: Callable[[ResultEvent], None],
) -> Job:
    return Job(
        command_id=request.command_id,
        requested_by=request.actor.user_name or request.actor.user_id,
        arguments=request.arguments,
        database=database,
        engine=deps.engines[database.engine],
        store=deps.store,
        stop=stop,
        say=lambda text: publish(CommandProgress(**_base(request), message=text)),
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

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


def _publisher_for(request: CommandRequested, deps: WorkerDeps) -> Callable[[ResultEvent], None]:
    def publish(event: ResultEvent) -> None:
        deps.publisher.publish([event])

    return publish


class _Base(TypedDict):
    command_id: str
    command: str
    reply_to: ReplyTarget
    source: str


def _base(request: CommandRequested) -> _Base:
    return {
        "command_id": request.command_id,
        "command": request.command,
        "reply_to": request.reply_to,
        "source": SOURCE,
    }


def _started(request: CommandRequested, database: Database) -> str:
    verbs = {"backup": "Backing up", "backups": "Listing the backups of", "restore": "Restoring"}
    return f"{verbs[request.command]} {code(database.name)} ({text(database.engine)})…"


def _succeeded(request: CommandRequested, outcome: Outcome) -> CommandSucceeded:
    return CommandSucceeded(
        **_base(request), summary=outcome.summary, output=outcome.output, duration_seconds=outcome.duration_seconds
    )


def serve(deps: WorkerDeps, stop: threading.Event, *, wait_seconds: int = 20) -> None:
    """Long-poll until `stop` is set; a job interrupted by `stop` goes back to the queue."""
    while not stop.is_set():
        for message in deps.queue.receive(wait_seconds):
            if stop.is_set():
                deps.queue.release(message)
                continue
            if handle_message(message, deps, stop) is Disposition.DONE:
                deps.queue.delete(message)
            else:
                deps.queue.release(message)
