"""`deploy`: claim the command id, then trigger exactly one Jenkins build.

Exactly once rests on the claim record (a conditional write keyed on the command id):
- a first delivery creates it (`claimed`), triggers the build, then records the queue item (`queued`);
- a later delivery that finds it `queued`/`running`/`finished` starts nothing (it only re-arms following);
- one that finds it `claimed` with a fresh `claimed_at` defers (another delivery is mid-trigger) via SQS;
- one that finds a stale `claimed` (a crash, or a timeout, between claim and record) first asks Jenkins
  for a queued item or build carrying the command id as a parameter and adopts it; only if there is
  none does it take the claim over (conditionally, so two recoverers cannot both win) and trigger.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from services.deploy import messages
from services.deploy.errors import ClaimBusyError, JenkinsError, JenkinsUnavailableError
from services.deploy.following import schedule_first_follow
from services.deploy.models import ClaimRecord, DeployRequest, FoundBuild
from services.deploy.service import DeployDeps, build_link
from shared.config.access import decide
from shared.errors import ConfigurationError
from shared.events.models import CommandRequested
from shared.events.reporter import CommandReporter
from shared.slack.mrkdwn import code, text

logger = logging.getLogger(__name__)
DAY = 86400


def start_deploy(deps: DeployDeps, event: CommandRequested, *, receive_count: int = 1) -> None:
    reporter = deps.reporter.about_request(event)
    if _too_old(deps, event):
        existing = deps.store.get(event.command_id)
        if existing is not None:
            _resume(deps, existing, reporter, receive_count)
        else:
            reporter.failed(messages.too_old(event.requested_at), retryable=True)
        return
    try:
        allowed = _allowed_now(deps, event)
    except ConfigurationError as error:
        reporter.failed(f"The slashops configuration is unusable: {error.message}")
        return
    if not allowed:
        _refuse(deps, event, reporter, receive_count)
        return
    record = _new_record(deps, event, reporter)
    if record is None:
        return
    if deps.store.create(record):
        _trigger(deps, record, reporter, receive_count)
        return
    existing = deps.store.get(record.command_id)
    if existing is None:  # deleted between the two calls: treat as a new delivery
        raise ClaimBusyError("claim vanished; retry")
    _resume(deps, existing, reporter, receive_count)


def _too_old(deps: DeployDeps, event: CommandRequested) -> bool:
    """A request replayed (from the archive) or stuck long after it was typed is never run as new.

    The limit is far below the claim's TTL, so a replay of a deploy that did run always finds its claim.
    """
    return deps.now() - event.requested_at.timestamp() > deps.settings.max_request_age_seconds


def _allowed_now(deps: DeployDeps, event: CommandRequested) -> bool:
    """The caller against the access rules as they are now, not as they were when the ingress checked.

    This refuses a request made before the rules changed, and a `CommandRequested` that did not come from the
    ingress naming a user the rules do not admit. A forged event naming an admitted user passes: keeping
    forgeries off the queue is the job of the bus rule (source `slashops.ingress` only) and IAM.
    """
    decision = decide(
        deps.config.get().access,
        command=event.command,
        user_id=event.actor.user_id,
        user_name=event.actor.user_name,
        channel_id=event.place.channel_id,
        channel_name=event.place.channel_name,
    )
    if not decision.allowed:
        logger.warning("refusing %s by %s: %s", event.command_id, event.actor.user_id, decision.reason)
    return decision.allowed


def _refuse(deps: DeployDeps, event: CommandRequested, reporter: CommandReporter, receive_count: int) -> None:
    """Nothing new starts; a redelivery of a deploy claimed while it was allowed only carries on with it."""
    existing = deps.store.get(event.command_id)
    if existing is not None:
        _resume(deps, existing, reporter, receive_count)
        return
    reporter.rejected(*messages.not_allowed(event.actor.user_id, event.command))


def _new_record(deps: DeployDeps, event: CommandRequested, reporter: CommandReporter) -> ClaimRecord | None:
    """The claim to write, or None after reporting why the request is refused (before any Jenkins call)."""
    try:
        request = DeployRequest.model_validate(event.arguments)
    except ValidationError as error:
        detail = error.errors()[0]
        field = code(".".join(map(str, detail["loc"])))
        reporter.rejected(f"Invalid {field}: {text(detail['msg'])}.", "See `/ops help deploy`.")
        return None
    try:
        config = deps.config.get().deploy
    except ConfigurationError as error:
        reporter.failed(f"The slashops configuration is unusable: {error.message}")
        return None
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


def _trigger(deps: DeployDeps, record: ClaimRecord, reporter: CommandReporter, receive_count: int) -> None:
    try:
        queue_id = deps.jenkins.trigger(record.job, record.parameters)
    except JenkinsError as error:
        _trigger_failed(deps, record, reporter, error, receive_count)
        return
    if not deps.store.update(
        record.command_id,
        {"state": "queued", "queue_id": queue_id},
        expect={"claim_token": record.claim_token, "state": "claimed"},
    ):
        logger.error("claim of %s was taken over while triggering (queue item %s)", record.command_id, queue_id)
        return
    reporter.progress(messages.queued(record))
    schedule_first_follow(deps, record.command_id, seq=0)


def _trigger_failed(
    deps: DeployDeps, record: ClaimRecord, reporter: CommandReporter, error: JenkinsError, receive_count: int
) -> None:
    """Transient errors go back to SQS (the visibility timeout is the backoff) until the attempts run out.

    The claim is marked stale first, so the redelivery checks Jenkins straight away: a timed-out trigger
    may still have queued the build.
    """
    retry = isinstance(error, JenkinsUnavailableError) and receive_count < deps.settings.max_trigger_attempts
    if retry:
        logger.warning("Jenkins unavailable for %s (attempt %d): %s", record.command_id, receive_count, error)
        deps.store.update(record.command_id, {"claimed_at": 0}, expect={"claim_token": record.claim_token})
        raise error
    reporter.failed(messages.jenkins_failure(error, record), retryable=error.retryable)
    deps.store.update(
        record.command_id, {"state": "finished", "result": type(error).__name__}, expect={"state": "claimed"}
    )


def _resume(deps: DeployDeps, existing: ClaimRecord, reporter: CommandReporter, receive_count: int) -> None:
    if existing.state in ("queued", "running"):
        logger.info("duplicate delivery of %s (%s): re-arming follow only", existing.command_id, existing.state)
        schedule_first_follow(deps, existing.command_id, seq=existing.follow_seq)
        return
    if existing.state == "finished":
        logger.info("duplicate delivery of finished %s: nothing to do", existing.command_id)
        return
    if deps.now() - existing.claimed_at < deps.settings.lease_seconds:
        raise ClaimBusyError(f"{existing.command_id} is being triggered by another delivery")
    _recover(deps, existing, reporter, receive_count)


def _recover(deps: DeployDeps, stale: ClaimRecord, reporter: CommandReporter, receive_count: int) -> None:
    try:
        found = deps.jenkins.find(stale.job, stale.id_parameter, stale.command_id)
    except JenkinsError as error:
        _trigger_failed(deps, stale, reporter, error, receive_count)
        return
    if found is not None:
        _adopt(deps, stale, found, reporter)
        return
    token = deps.new_token()
    if not deps.store.update(
        stale.command_id,
        {"claim_token": token, "claimed_at": deps.now()},
        expect={"claim_token": stale.claim_token, "state": "claimed"},
    ):
        raise ClaimBusyError(f"{stale.command_id} was recovered by another delivery")
    logger.warning("recovering %s: no build in Jenkins carries it, triggering", stale.command_id)
    _trigger(deps, stale.model_copy(update={"claim_token": token}), reporter, receive_count)


def _adopt(deps: DeployDeps, stale: ClaimRecord, found: FoundBuild, reporter: CommandReporter) -> None:
    """A crashed attempt did start the build: record it instead of starting another."""
    changes: dict[str, object] = {"state": "queued", "queue_id": found.queue_id}
    if found.build_number is not None:
        changes = {"state": "running", "build_number": found.build_number, "build_url": found.build_url}
    if not deps.store.update(stale.command_id, changes, expect={"claim_token": stale.claim_token, "state": "claimed"}):
        raise ClaimBusyError(f"{stale.command_id} was recovered by another delivery")
    logger.warning("recovered %s: adopted %s", stale.command_id, found)
    if found.build_number is not None:
        reporter.progress(messages.started(stale, found.build_number), *build_link(found.build_number, found.build_url))
    else:
        reporter.progress(messages.queued(stale))
    schedule_first_follow(deps, stale.command_id, seq=0)
