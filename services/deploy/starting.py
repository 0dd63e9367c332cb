"""`deploy`: claim the command id, then trigger exactly one Jenkins build.

Exactly once rests on the claim record (a conditional write keyed on the command id):
- a first delivery creates it (`claimed`), triggers the build, then records the queue item (`queued`); a delivery
  whose create is refused gets the existing claim with the refusal (no second read);
- a later delivery that finds it `queued`/`running`/`finished` starts nothing (it only re-arms following);
- one that finds it `claimed` with a fresh `claimed_at` defers (another delivery is mid-trigger) via SQS;
- one that finds a stale `claimed` (a crash, or a timeout, between claim and record) first asks Jenkins
  for a queued item or build carrying the command id as a parameter and adopts it; only if there is
  none does it take the claim over (conditionally, so two recoverers cannot both win) and trigger.

Before any trigger the deploy holds its target (client and environment) unless the client allows overlapping
deploys: while another deploy holds it, this one is refused, naming that deploy and who started it.

Like locks, freezes are looked at again on arrival (`_freeze`): a deploy published just before its environment was
frozen (an ad-hoc freeze, or a window that opened meanwhile) is refused unless it carries an approved override of
that very freeze.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from services.deploy import messages, transitions
from services.deploy.errors import ClaimBusyError, JenkinsError, JenkinsUnavailableError
from services.deploy.following import schedule_first_follow
from services.deploy.models import FIRST_DELIVERY, ClaimRecord, Delivery, DeployRequest, FoundBuild
from shared.deadline import Deadline
from shared.errors import ConfigurationError
from shared.freezes.messages import override_reason, refusal
from shared.freezes.models import EVERY_CLIENT, Verdict, active, verdict
from shared.locks.models import Lock
from shared.locks.port import LockStoreUnavailableError
from shared.slack.mrkdwn import code, text

if TYPE_CHECKING:
    from services.deploy.deps import DeployDeps
    from shared.events.models import CommandRequested
    from shared.events.reporter import CommandReporter
    from shared.pipeline import Authorized

logger = logging.getLogger(__name__)
DAY = 86400
LOCK_CHECK_SECONDS = 10.0


def start(authorized: Authorized, deps: DeployDeps, delivery: Delivery = FIRST_DELIVERY) -> None:
    """The use case of `deploy` (`CommandSpec.runs`): the pipeline (`shared.pipeline`) checked the caller."""
    event = authorized.request
    reporter = deps.reporter.about_request(event)
    if _too_old(event, deps):
        existing = deps.store.get(event.command_id)
        if existing is not None:
            _resume(existing, deps, reporter, delivery)
        else:
            reporter.failed(messages.too_old(event.requested_at), retryable=True)
        return
    record = _new_record(authorized, deps, reporter)
    if record is None:
        return
    reporter = reporter.doing(messages.activity(record))
    if (lock := _other_users_lock(record, deps, delivery)) is not None:
        _refuse_locked(event, lock, deps, reporter, delivery)
        return
    if (frozen := _freeze(authorized, record, deps, delivery)) is not None:
        _refuse(event, frozen, deps, reporter, delivery)
        return
    existing = deps.store.create(record)
    if existing is None:
        _trigger(record, deps, reporter, delivery)
    else:
        _resume(existing, deps, reporter, delivery)


def _too_old(event: CommandRequested, deps: DeployDeps) -> bool:
    """A request replayed (from the archive) or stuck long after it was typed is never run as new.

    The limit is far below the claim's TTL, so a replay of a deploy that did run always finds its claim.
    """
    return deps.now() - event.requested_at.timestamp() > deps.settings.max_request_age_seconds


def carry_on_if_claimed(event: CommandRequested, deps: DeployDeps, delivery: Delivery, reason: str, hint: str) -> None:
    """`deploy`'s `when_refused`: nothing new starts; a redelivery of a deploy claimed while it was allowed only
    carries on with it (its build may be running: abandoning it would leave it unfollowed)."""
    reporter = deps.reporter.about_request(event)
    existing = deps.store.get(event.command_id)
    if existing is not None:
        _resume(existing, deps, reporter, delivery)
        return
    reporter.rejected(reason, hint)


def _other_users_lock(record: ClaimRecord, deps: DeployDeps, delivery: Delivery) -> Lock | None:
    """The second look (the ingress refused at the door): a deploy published just before its target was locked.

    If the lock table does not answer, SQS delivers again (the visibility timeout is the backoff); the last
    delivery reports instead, so the deploy never runs unchecked and never vanishes into the DLQ unannounced.
    """
    if deps.locks is None:
        return None
    try:
        lock = deps.locks.get(record.client, record.env, deadline=Deadline.after(LOCK_CHECK_SECONDS))
    except LockStoreUnavailableError:
        if not delivery.last_attempt:
            raise
        return Lock(
            client=record.client, env=record.env, holder="", reason="unknown", locked_at=0, expires_at=0
        )  # a sentinel: "cannot tell" is refused like a lock
    if lock is None or not lock.active(deps.now()) or lock.held_by(record.requested_by):
        return None
    return lock


def _refuse_locked(
    event: CommandRequested, lock: Lock, deps: DeployDeps, reporter: CommandReporter, delivery: Delivery
) -> None:
    _refuse(event, messages.locked(lock), deps, reporter, delivery)


def _freeze(
    authorized: Authorized, record: ClaimRecord, deps: DeployDeps, delivery: Delivery
) -> tuple[str, str] | None:
    """The second look at freezes (the ingress refused or held at the door): why this deploy is refused now, or None.
    An unreadable lock table is retried, then refused on the last delivery, as for locks."""
    adhoc: Lock | None = None
    if deps.locks is not None:
        try:
            adhoc = deps.locks.get(EVERY_CLIENT, record.env, deadline=Deadline.after(LOCK_CHECK_SECONDS))
        except LockStoreUnavailableError:
            if not delivery.last_attempt:
                raise
            return messages.freezes_unreadable(record.env)
    now = datetime.fromtimestamp(deps.now(), UTC)
    found = verdict(active(authorized.config.deploy.freezes, [adhoc], now, record.env))
    if found is None or _override_approved(found, authorized.request):
        return None
    return refusal(record.env, found, ask_override=True)


def _override_approved(found: Verdict, event: CommandRequested) -> bool:
    """Whether the deploy carries an approved override of this very freeze (the ingress held it for one)."""
    approval = event.approval
    reason = override_reason(found.freeze)
    return found.override is not None and approval is not None and reason in (approval.held_because, approval.overrode)


def _refuse(
    event: CommandRequested, why: tuple[str, str], deps: DeployDeps, reporter: CommandReporter, delivery: Delivery
) -> None:
    existing = deps.store.get(event.command_id)
    if existing is not None:  # claimed before the lock or freeze landed: it carries on
        _resume(existing, deps, reporter, delivery)
        return
    reporter.rejected(*why)


def _new_record(authorized: Authorized, deps: DeployDeps, reporter: CommandReporter) -> ClaimRecord | None:
    """The claim to write, or None after reporting why the request is refused (before any Jenkins call)."""
    event = authorized.request
    try:
        request = DeployRequest.model_validate(event.arguments)
    except ValidationError as error:
        detail = error.errors()[0]
        field = code(".".join(map(str, detail["loc"])))
        reporter.rejected(f"Invalid {field}: {text(detail['msg'])}.", "See `/ops help deploy`.")
        return None
    config = authorized.config.deploy
    if not config.knows(request.client):
        reporter.rejected(*messages.unknown_client(request.client, config.client_names()))
        return None
    problem = config.branch_problem(request.client, request.branch)
    if problem:
        reporter.rejected(*messages.branch_refused(request.client, request.branch, problem))
        return None
    plan = config.plan(client=request.client, branch=request.branch, env=request.env)
    now = deps.now()
    return ClaimRecord(
        command_id=event.command_id,
        claim_token=deps.new_token(),
        claimed_at=now,
        created_at=now,
        job=plan.job,
        parameters={**plan.parameters, config.command_id_parameter: event.command_id},
        id_parameter=config.command_id_parameter,
        client=request.client,
        env=request.env,
        branch=request.branch,
        requested_by=event.actor.user_id,
        reply_to=event.reply_to,
        expires_at=now + deps.settings.record_ttl_days * DAY,
    )


def _trigger(record: ClaimRecord, deps: DeployDeps, reporter: CommandReporter, delivery: Delivery) -> None:
    if not _hold_target(record, deps, reporter):
        return
    try:
        queue_id = deps.jenkins.trigger(record.job, record.parameters)
    except JenkinsError as error:
        _trigger_failed(record, deps, reporter, error, delivery)
        return
    if not transitions.mark_queued(deps.store, record, queue_id):
        logger.error("claim of %s was taken over while triggering (queue item %s)", record.command_id, queue_id)
        return
    reporter.progress(messages.queued(record))
    schedule_first_follow(record.command_id, deps, seq=0)


def _hold_target(record: ClaimRecord, deps: DeployDeps, reporter: CommandReporter) -> bool:
    """One deploy per client and environment, unless the client allows overlap: True if this one may trigger.

    Taken just before the trigger, on every path to it (a new claim, a recovered one), so a redelivery holds it
    again without refusing itself. A refused deploy is reported first, then its claim finished: a crash in
    between means a redelivery looks again (and refuses again while the other runs), never a silent loss.
    """
    if _concurrent(record, deps):
        return True
    holder = transitions.hold_target(deps.store, record, stale_after=deps.settings.max_follow_seconds, now=deps.now())
    if holder is None:
        return True
    reporter.rejected(*messages.target_busy(holder, now=deps.now()))
    transitions.give_up(deps.store, record, "target busy")
    return False


def _concurrent(record: ClaimRecord, deps: DeployDeps) -> bool:
    """Whether the client opted into overlapping deploys; a configuration that cannot be read says no."""
    try:
        return deps.config.get().deploy.concurrent(record.client)
    except ConfigurationError:
        return False


def _trigger_failed(
    record: ClaimRecord, deps: DeployDeps, reporter: CommandReporter, error: JenkinsError, delivery: Delivery
) -> None:
    """Transient errors go back to SQS (the visibility timeout is the backoff) until the attempts run out.

    The claim is marked stale first, so the redelivery checks Jenkins straight away: a timed-out trigger
    may still have queued the build. The last delivery SQS makes (`maxReceiveCount`) reports instead of
    retrying, even below `max_trigger_attempts`: raising then would move the request to the DLQ unannounced.
    """
    attempts_left = delivery.receive_count < deps.settings.max_trigger_attempts and not delivery.last_attempt
    if isinstance(error, JenkinsUnavailableError) and attempts_left:
        logger.warning("Jenkins unavailable for %s (attempt %d): %s", record.command_id, delivery.receive_count, error)
        transitions.mark_stale(deps.store, record)
        raise error
    reporter.failed(messages.jenkins_failure(error, record), retryable=error.retryable)
    transitions.give_up(deps.store, record, type(error).__name__)
    transitions.release_target(deps.store, record)


def _resume(existing: ClaimRecord, deps: DeployDeps, reporter: CommandReporter, delivery: Delivery) -> None:
    reporter = reporter.doing(messages.activity(existing))
    if existing.state in ("queued", "running"):
        logger.info("duplicate delivery of %s (%s): re-arming follow only", existing.command_id, existing.state)
        schedule_first_follow(existing.command_id, deps, seq=existing.follow_seq)
        return
    if existing.state == "finished":
        logger.info("duplicate delivery of finished %s: nothing to do", existing.command_id)
        return
    if deps.now() - existing.claimed_at < deps.settings.lease_seconds:
        raise ClaimBusyError(f"{existing.command_id} is being triggered by another delivery")
    _recover(existing, deps, reporter, delivery)


def _recover(stale: ClaimRecord, deps: DeployDeps, reporter: CommandReporter, delivery: Delivery) -> None:
    try:
        found = deps.jenkins.find(stale.job, stale.id_parameter, stale.command_id)
    except JenkinsError as error:
        _trigger_failed(stale, deps, reporter, error, delivery)
        return
    if found is not None:
        _adopt(stale, found, deps, reporter)
        return
    held = transitions.take_over(deps.store, stale, deps.new_token(), deps.now())
    if held is None:
        raise ClaimBusyError(f"{stale.command_id} was recovered by another delivery")
    logger.warning("recovering %s: no build in Jenkins carries it, triggering", stale.command_id)
    _trigger(held, deps, reporter, delivery)


def _adopt(stale: ClaimRecord, found: FoundBuild, deps: DeployDeps, reporter: CommandReporter) -> None:
    """A crashed attempt did start the build: record it instead of starting another."""
    if not transitions.adopt(deps.store, stale, found):
        raise ClaimBusyError(f"{stale.command_id} was recovered by another delivery")
    logger.warning("recovered %s: adopted %s", stale.command_id, found)
    if found.build_number is not None:
        link = messages.build_link(found.build_number, found.build_url)
        reporter.progress(messages.started(stale, found.build_number), *link)
    else:
        reporter.progress(messages.queued(stale))
    schedule_first_follow(stale.command_id, deps, seq=0)
