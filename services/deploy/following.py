"""Following a build without holding a Lambda: each step looks once, then schedules the next step.

A step runs only if it is the record's next one (`follow_seq`, advanced by a conditional write owned by
the SQS message id), so duplicated follow messages cannot fork the chain, while a redelivery of the same
message (after a crash mid-step) may redo its step. Final events are published before the record is
marked `finished`: a crash in between repeats the final event rather than losing it.
"""

from __future__ import annotations

import logging

from services.deploy import messages, transitions
from services.deploy.console import shown_tail
from services.deploy.deps import DeployDeps
from services.deploy.errors import JenkinsError, JenkinsNotFoundError, JenkinsUnavailableError
from services.deploy.messages import build_link, ended_links
from services.deploy.models import BuildState, ClaimRecord, Delivery, FollowMessage
from services.deploy.ports import MAX_DELAY_SECONDS
from shared.events.models import Link
from shared.events.reporter import CommandReporter

logger = logging.getLogger(__name__)


def schedule_first_follow(command_id: str, deps: DeployDeps, *, seq: int) -> None:
    _schedule(FollowMessage(command_id=command_id, seq=seq), deps, deps.settings.first_follow_delay)


def follow(message: FollowMessage, deps: DeployDeps, delivery: Delivery) -> None:
    step = transitions.take_step(deps.store, message.command_id, message.seq, delivery.message_id)
    record = step.claim
    if record is None or record.state == "finished":
        logger.info("follow of %s: nothing to follow (%s)", message.command_id, record and record.state)
        if record is not None:  # a redelivery after a crash between finishing and releasing the target
            transitions.release_target(deps.store, record)
        return
    if not step.taken:
        logger.info("follow of %s: step %d already taken, dropping duplicate", message.command_id, message.seq)
        return
    reporter = deps.reporter.about(record.command_id, "deploy", record.reply_to).doing(messages.activity(record))
    try:
        _step(deps, record, message, reporter)
    except JenkinsUnavailableError as error:
        _retry_later(deps, record, message, reporter, error)
    except JenkinsError as error:
        _finish(deps, record, reporter, "error", messages.jenkins_failure(error, record))


def _next(deps: DeployDeps, message: FollowMessage, *, failures: int = 0) -> None:
    follow_up = FollowMessage(command_id=message.command_id, seq=message.seq + 1, failures=failures)
    _schedule(follow_up, deps, deps.settings.follow_delay * (2**failures))


def _schedule(message: FollowMessage, deps: DeployDeps, delay: int) -> None:
    """The one place a delay is kept within what the scheduler (SQS) accepts."""
    deps.scheduler.schedule(message, max(0, min(MAX_DELAY_SECONDS, delay)))


def _step(deps: DeployDeps, record: ClaimRecord, message: FollowMessage, reporter: CommandReporter) -> None:
    if record.state == "queued" and record.queue_id is not None:
        _step_queued(deps, record, message, reporter)
    elif record.state == "running" and record.build_number is not None:
        _step_running(deps, record, message, reporter, record.build_number)
    else:
        _next(deps, message)


def _step_queued(deps: DeployDeps, record: ClaimRecord, message: FollowMessage, reporter: CommandReporter) -> None:
    assert record.queue_id is not None
    try:
        item = deps.jenkins.queue_item(record.queue_id)
        number, url, cancelled = item.build_number, item.build_url, item.cancelled
    except JenkinsNotFoundError:  # Jenkins forgets queue items a few minutes after they leave the queue
        found = deps.jenkins.find(record.job, record.id_parameter, record.command_id)
        if found is None or found.build_number is None:
            _finish(
                deps, record, reporter, "lost", messages.gave_up_following(record, None, "Jenkins lost its queue item")
            )
            return
        number, url, cancelled = found.build_number, found.build_url, False
    if cancelled:
        _cancelled(deps, record, reporter, None, ())
        _mark_finished(deps, record, "ABORTED")
    elif number is None:
        _next(deps, message)
    else:
        reporter.progress(messages.started(record, number), *build_link(number, url))
        transitions.mark_running(deps.store, record, number, url)
        _next(deps, message)


def _step_running(
    deps: DeployDeps, record: ClaimRecord, message: FollowMessage, reporter: CommandReporter, number: int
) -> None:
    build = deps.jenkins.build(record.job, number)
    links = build_link(number, build.url)
    if build.building:
        if deps.now() - record.created_at > deps.settings.max_follow_seconds:
            why = f"still running after {deps.settings.max_follow_seconds // 60} minutes"
            _finish(deps, record, reporter, "timeout", messages.gave_up_following(record, number, why))
        else:
            _next(deps, message)
        return
    result = build.result or "UNKNOWN"
    if result == "SUCCESS":
        reporter.succeeded(messages.succeeded(record, number), links=links, duration=build.duration_seconds)
    else:
        _unsuccessful(deps, record, reporter, build, result)
    _mark_finished(deps, record, result)


def _unsuccessful(
    deps: DeployDeps, record: ClaimRecord, reporter: CommandReporter, build: BuildState, result: str
) -> None:
    """A failed or aborted build explains itself: its console's last lines, and the links to it and its full log."""
    output, unreadable = _console_tail(deps, record, build.number)
    links = ended_links(build.number, build.url)
    if result == "ABORTED":
        _cancelled(deps, record, reporter, build.number, links, duration=build.duration_seconds, output=output)
    else:
        reason = messages.failed(record, build.number, result, unreadable)
        reporter.failed(reason, links=links, duration=build.duration_seconds, output=output)


def _cancelled(
    deps: DeployDeps,
    record: ClaimRecord,
    reporter: CommandReporter,
    number: int | None,
    links: tuple[Link, ...],
    *,
    duration: float | None = None,
    output: str = "",
) -> None:
    """An aborted build is a cancel, reported as one: by whom (`cancel` recorded it), never as a failure."""
    fresh = _fresh(deps, record)
    reporter.cancelled(
        messages.aborted(fresh, number), by=fresh.cancelled_by or "", links=links, duration=duration, output=output
    )


def _console_tail(deps: DeployDeps, record: ClaimRecord, number: int) -> tuple[str, JenkinsError | None]:
    """The console's last lines as they may leave the service (`console.shown_tail`: secrets masked), or "" and
    why not. Best effort: the final event is not held back by an unreadable console."""
    try:
        return shown_tail(deps.jenkins.console_tail(record.job, number, deps.settings.console_lines)), None
    except JenkinsError as error:
        logger.warning("console of %s #%d unreadable: %s", record.job, number, error)
        return "", error


def _retry_later(
    deps: DeployDeps, record: ClaimRecord, message: FollowMessage, reporter: CommandReporter, error: JenkinsError
) -> None:
    failures = message.failures + 1
    if failures > deps.settings.max_follow_failures:
        why = f"Jenkins stayed unavailable ({error.message})"
        _finish(
            deps,
            record,
            reporter,
            "unavailable",
            messages.gave_up_following(record, record.build_number, why),
            retryable=True,
        )
        return
    logger.warning("follow of %s: %s (failure %d), retrying later", record.command_id, error, failures)
    _next(deps, message, failures=failures)


def _finish(
    deps: DeployDeps,
    record: ClaimRecord,
    reporter: CommandReporter,
    result: str,
    reason: str,
    *,
    retryable: bool = False,
) -> None:
    """End the follow with a failure that did not come from a build result."""
    reporter.failed(reason, retryable=retryable, links=build_link(record.build_number, record.build_url))
    _mark_finished(deps, record, result)


def _mark_finished(deps: DeployDeps, record: ClaimRecord, result: str) -> None:
    """Every end of a follow comes here: the claim is finished, then its target is free for the next deploy."""
    transitions.finish(deps.store, record, result)
    transitions.release_target(deps.store, record)


def _fresh(deps: DeployDeps, record: ClaimRecord) -> ClaimRecord:
    """The record re-read, to name who cancelled it."""
    return deps.store.get(record.command_id) or record
