"""`cancel <id>`: the starter or a rule-admitted user stops a queued or running build; it ends cancelled by them
(`CommandCancelled`), never failed."""

from __future__ import annotations

from services.deploy import transitions
from services.deploy.deps import DeployDeps
from services.deploy.following import follow
from services.deploy.models import Delivery
from shared.events.models import CommandCancelled, CommandFailed, CommandRejected, CommandSucceeded
from tests.support.deploy import STARTER, cancel_deploy, deliver_follows, requested, start_deploy
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.deploy import MemoryScheduler
from tools.fakes.jenkins import FakeJenkins


def _cancel(deps: DeployDeps, command_id: str, user_id: str = STARTER) -> str:
    event = requested("cancel", arguments={"id": command_id}, user_id=user_id, user_name="someone")
    cancel_deploy(event, deps)
    return event.command_id


def _events_for(publisher: RecordingPublisher, command_id: str) -> list[object]:
    return [event for event in publisher.events if event.command_id == command_id]


def test_starter_stops_a_running_build_and_the_deploy_ends_cancelled_by_them(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_start, jenkins.polls_before_finish = 0, 100
    deploy = requested()
    start_deploy(deploy, deps)
    follow(scheduler.pop(), deps, Delivery(message_id="f-1"))  # sees build #1 start

    cancel_id = _cancel(deps, deploy.command_id)
    deliver_follows(deps, scheduler)

    assert jenkins.stopped == [("deploy-acme", 1)]
    [stop_requested] = _events_for(publisher, cancel_id)
    assert isinstance(stop_requested, CommandSucceeded) and "build #1" in stop_requested.summary
    final = _events_for(publisher, deploy.command_id)[-1]
    assert isinstance(final, CommandCancelled) and final.cancelled_by == STARTER
    assert "cancelled by <@U0STARTER>" in final.reason


def test_cancel_of_a_queued_deploy_cancels_the_queue_item(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_start = 100
    deploy = requested()
    start_deploy(deploy, deps)

    _cancel(deps, deploy.command_id)
    deliver_follows(deps, scheduler)

    assert jenkins.cancelled == [1] and jenkins.stopped == []
    final = _events_for(publisher, deploy.command_id)[-1]
    assert isinstance(final, CommandCancelled) and "before its build started" in final.reason


def test_user_admitted_by_a_cancel_rule_may_cancel_someone_elses_deploy(
    deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_start = 0
    deploy = requested()
    start_deploy(deploy, deps)

    cancel_id = _cancel(deps, deploy.command_id, user_id="U0LEAD")

    assert isinstance(_events_for(publisher, cancel_id)[0], CommandSucceeded)
    assert jenkins.stopped == [("deploy-acme", 1)]


def test_other_users_may_not_cancel(deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher) -> None:
    deploy = requested()
    start_deploy(deploy, deps)

    cancel_id = _cancel(deps, deploy.command_id, user_id="U0RANDOM")

    [rejected] = _events_for(publisher, cancel_id)  # U0RANDOM may not see others' deploys: learns nothing
    assert isinstance(rejected, CommandRejected) and rejected.reason == f"No deploy has id `{deploy.command_id}`."
    assert jenkins.stopped == [] and jenkins.cancelled == []


def test_cancel_of_an_unknown_or_finished_deploy_is_rejected(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    unknown = _cancel(deps, "abcdef123456")
    deploy = requested()
    start_deploy(deploy, deps)
    deliver_follows(deps, scheduler)
    finished = _cancel(deps, deploy.command_id)

    [first] = _events_for(publisher, unknown)
    [second] = _events_for(publisher, finished)
    assert isinstance(first, CommandRejected) and "No deploy has id" in first.reason
    assert isinstance(second, CommandRejected) and "already finished (SUCCESS)" in second.reason
    assert jenkins.stopped == []


def test_cancel_when_jenkins_refuses_reports_a_failure(
    deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_start = 0
    deploy = requested()
    start_deploy(deploy, deps)
    jenkins.fail(500, path="/stop")
    claim = deps.store.get(deploy.command_id)
    assert claim is not None and transitions.mark_running(deps.store, claim, 1, None)

    cancel_id = _cancel(deps, deploy.command_id)

    [failed] = _events_for(publisher, cancel_id)
    assert isinstance(failed, CommandFailed) and failed.retryable
