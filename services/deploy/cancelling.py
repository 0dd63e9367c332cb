"""`cancel <id>`: stop a queued (cancel the queue item) or running (stop the build) deploy.

The ingress lets anyone send `cancel` (only this service knows who started a deploy); here it is allowed
to the user who started the deploy and to users the access rules admit for `cancel`. The deploy's own
final result (aborted) still comes from its follow chain; this command reports that the stop was asked.
"""

from __future__ import annotations

from pydantic import ValidationError

from services.deploy import messages, transitions
from services.deploy.deps import DeployDeps
from services.deploy.errors import JenkinsError
from services.deploy.models import FIRST_DELIVERY, CancelRequest, ClaimRecord, Delivery
from shared.config.access import caller_of, decide, named_groups
from shared.errors import ConfigurationError
from shared.events.models import CommandRequested
from shared.slack.groups import caller_groups
from shared.slack.mrkdwn import code, mention, text


def cancel_deploy(event: CommandRequested, deps: DeployDeps, delivery: Delivery = FIRST_DELIVERY) -> None:
    reporter = deps.reporter.about_request(event)
    try:
        request = CancelRequest.model_validate(event.arguments)
    except ValidationError:
        reporter.rejected("That is not a command id.", "See `/ops help cancel`.")
        return
    record = deps.store.get(request.id)
    refusal = _refusal(event, deps, record, request.id)
    if refusal is not None:
        reporter.rejected(*refusal)
        return
    assert record is not None
    try:
        number = _stop(record, deps)
    except JenkinsError as error:
        reporter.failed(messages.jenkins_failure(error, record), retryable=error.retryable)
        return
    transitions.record_cancel(deps.store, record, event.actor.user_id)
    build = f"build #{number}" if number else "its queued build"
    reporter.succeeded(f"Asked Jenkins to stop {build} of deploy {code(record.command_id)} ({messages.what(record)}).")


def _refusal(
    event: CommandRequested, deps: DeployDeps, record: ClaimRecord | None, command_id: str
) -> tuple[str, str] | None:
    if record is None:
        return f"No deploy has id {code(command_id)}.", "`/ops history --command deploy` lists recent deploys."
    if not _may_cancel(event, deps, record):
        return (
            f"Only {mention(record.requested_by)}, who started deploy {code(command_id)}, or users allowed to run "
            "`cancel` can stop it.",
            "",
        )
    if record.state == "finished":
        return f"Deploy {code(command_id)} has already finished ({text(record.result or 'no result')}).", ""
    if record.state == "claimed":
        return f"Deploy {code(command_id)} is not in Jenkins yet.", "Try again in a few seconds."
    return None


def _may_cancel(event: CommandRequested, deps: DeployDeps, record: ClaimRecord) -> bool:
    if event.actor.user_id == record.requested_by:
        return True
    try:
        rules = deps.config.get().access
    except ConfigurationError:  # fail closed: only the starter may cancel while the configuration is broken
        return False
    groups = caller_groups(event.actor.user_id, named_groups(rules, "cancel"), deps.groups)
    return decide(rules, command="cancel", caller=caller_of(event, groups), arguments=event.arguments).allowed


def _stop(record: ClaimRecord, deps: DeployDeps) -> int | None:
    """Cancel the queue item, or stop the build (also if the item started meanwhile); the build number or None."""
    number = record.build_number
    if number is None and record.queue_id is not None:
        deps.jenkins.cancel_queued(record.queue_id)
        number = deps.jenkins.queue_item(record.queue_id).build_number
    if number is not None:
        deps.jenkins.stop(record.job, number)
    return number
