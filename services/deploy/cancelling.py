"""`cancel <id>`: stop a queued (cancel the queue item) or running (stop the build) deploy.

The ingress lets anyone send `cancel` (only this service knows who started a deploy); here it is allowed
to the user who started the deploy and to users the access rules admit for `cancel`. The deploy's own
final result (aborted) still comes from its follow chain; this command reports that the stop was asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from services.deploy import messages, transitions
from services.deploy.errors import JenkinsError
from services.deploy.models import FIRST_DELIVERY, CancelRequest, ClaimRecord, Delivery
from shared.config.access import decide, identify_caller, may_see_commands_of
from shared.slack.mrkdwn import code, mention, text

if TYPE_CHECKING:
    from services.deploy.deps import DeployDeps
    from shared.pipeline import Authorized


def cancel(authorized: Authorized, deps: DeployDeps, delivery: Delivery = FIRST_DELIVERY) -> None:
    """The use case of `cancel` (`CommandSpec.runs`; open to all: who may stop a deploy is decided here)."""
    event = authorized.request
    reporter = deps.reporter.about_request(event)
    try:
        request = CancelRequest.model_validate(event.arguments)
    except ValidationError:
        reporter.rejected("That is not a command id.", "See `/ops help cancel`.")
        return
    record = deps.store.get(request.id)
    refusal = _refusal(authorized, deps, record, request.id)
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
    authorized: Authorized, deps: DeployDeps, record: ClaimRecord | None, command_id: str
) -> tuple[str, str] | None:
    unknown = f"No deploy has id {code(command_id)}.", "`/ops history --command deploy` lists recent deploys."
    if record is None:
        return unknown
    allowed = _may_cancel(authorized, deps, record)
    if allowed is None:  # may not even see others' deploys: answered as an unknown id, revealing nothing
        return unknown
    if not allowed:
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


def _may_cancel(authorized: Authorized, deps: DeployDeps, record: ClaimRecord) -> bool | None:
    """True: the starter, or someone the `cancel` rules admit; False: someone who may see others' deploys (as
    `status` decides) but not cancel them; None: someone who may not even see them. (The pipeline checked the
    workspace and the configuration.)"""
    event = authorized.request
    if event.actor.user_id == record.requested_by:
        return True
    rules = authorized.config.access
    caller = identify_caller(event, rules, deps.groups, deps.names, command="cancel")
    if decide(rules, command="cancel", caller=caller, arguments=event.arguments).allowed:
        return True
    seer = identify_caller(event, rules, deps.groups, deps.names, command="deploy")
    return False if may_see_commands_of(rules, command="deploy", caller=seer) else None


def _stop(record: ClaimRecord, deps: DeployDeps) -> int | None:
    """Cancel the queue item, or stop the build (also if the item started meanwhile); the build number or None."""
    number = record.build_number
    if number is None and record.queue_id is not None:
        deps.jenkins.cancel_queued(record.queue_id)
        number = deps.jenkins.queue_item(record.queue_id).build_number
    if number is not None:
        deps.jenkins.stop(record.job, number)
    return number
