"""`cancel <id>` on the in-memory ports: who may stop a deploy, and how a queued or running one is stopped."""

from __future__ import annotations

from services.deploy.errors import JenkinsUnavailableError
from services.deploy.following import follow
from services.deploy.models import Delivery
from shared.errors import ConfigurationError
from shared.events.models import CommandCancelled, CommandFailed, CommandRejected, CommandSucceeded, Event
from tests.support.deploy import CONFIG, STARTER, MemoryDeploy, cancel_deploy, requested, start_deploy
from tests.support.fakes import StaticConfig


def _cancel(deploy: MemoryDeploy, command_id: str, user_id: str = STARTER) -> list[Event]:
    event = requested("cancel", arguments={"id": command_id}, user_id=user_id)
    cancel_deploy(event, deploy.deps)
    return [e for e in deploy.publisher.events if e.command_id == event.command_id]


def _running(deploy: MemoryDeploy) -> str:
    deploy.jenkins.polls_before_start, deploy.jenkins.polls_before_finish = 0, 100
    event = requested()
    start_deploy(event, deploy.deps)
    follow(deploy.scheduler.pop(), deploy.deps, Delivery(message_id="f-1"))  # sees build #1 start
    return event.command_id


def test_the_starter_stops_a_running_build_and_the_deploy_ends_cancelled_by_them_not_failed() -> None:
    deploy = MemoryDeploy()
    command_id = _running(deploy)

    [asked] = _cancel(deploy, command_id)
    deploy.follow_all()

    assert isinstance(asked, CommandSucceeded) and "build #1" in asked.summary
    assert deploy.jenkins.stopped == [("deploy-acme", 1)]
    final = [e for e in deploy.publisher.events if e.command_id == command_id][-1]
    assert isinstance(final, CommandCancelled) and final.cancelled_by == STARTER
    assert "cancelled by <@U0STARTER>" in final.reason and final.activity.startswith("deploying `main` of *acme*")
    assert not any(isinstance(e, CommandFailed) for e in deploy.publisher.events if e.command_id == command_id)


def test_a_queued_deploy_has_its_queue_item_cancelled() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.polls_before_start = 100
    event = requested()
    start_deploy(event, deploy.deps)

    [asked] = _cancel(deploy, event.command_id)
    deploy.follow_all()

    assert isinstance(asked, CommandSucceeded) and "queued build" in asked.summary
    assert deploy.jenkins.cancelled == [1] and deploy.jenkins.stopped == []
    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandCancelled) and final.cancelled_by == STARTER
    assert f"cancelled by <@{STARTER}> before its build started" in final.reason


def test_a_user_admitted_by_a_cancel_rule_may_cancel_and_others_may_not() -> None:
    deploy = MemoryDeploy(config=CONFIG.replace("users: [U0STARTER]", "users: [U0STARTER, U0DEV]"))
    command_id = _running(deploy)

    [refused] = _cancel(deploy, command_id, user_id="U0DEV")  # may deploy (and see deploys), not cancel others'
    [allowed] = _cancel(deploy, command_id, user_id="U0LEAD")

    assert isinstance(refused, CommandRejected) and "<@U0STARTER>" in refused.reason
    assert isinstance(allowed, CommandSucceeded) and deploy.jenkins.stopped == [("deploy-acme", 1)]


def test_someone_who_may_not_see_others_deploys_learns_nothing_from_cancel() -> None:
    """Issue 19.4: as `status <id>` answers them — the same words as for an id that does not exist."""
    deploy = MemoryDeploy()
    command_id = _running(deploy)

    [refused] = _cancel(deploy, command_id, user_id="U0RANDOM")
    [unknown] = _cancel(deploy, "feedfeedfeed", user_id="U0RANDOM")

    assert isinstance(refused, CommandRejected) and isinstance(unknown, CommandRejected)
    assert refused.reason == f"No deploy has id `{command_id}`." and "STARTER" not in refused.reason
    assert deploy.jenkins.stopped == []


def test_a_broken_configuration_is_reported_to_every_canceller_and_stops_nothing() -> None:
    """Issue 20.1: the one pipeline answers a broken configuration alike for every command (the starter too: the
    workspace pin cannot be read); the build is stopped in Jenkins meanwhile if it must be."""
    deploy = MemoryDeploy()
    command_id = _running(deploy)
    deploy.deps.config = StaticConfig(ConfigurationError("ssm:/slashops/config: cannot read"))

    [lead] = _cancel(deploy, command_id, user_id="U0LEAD")
    [starter] = _cancel(deploy, command_id)

    for answer in (lead, starter):
        assert isinstance(answer, CommandFailed) and "slashops is misconfigured" in answer.reason
    assert deploy.jenkins.stopped == []


def test_unknown_finished_and_not_yet_triggered_deploys_are_refused() -> None:
    deploy = MemoryDeploy()
    unknown = _cancel(deploy, "abcdef123456")
    finished_id = _running(deploy)
    deploy.jenkins.polls_before_finish = 0
    deploy.jenkins.builds[("deploy-acme", 1)].polls_left = 0
    deploy.follow_all()
    finished = _cancel(deploy, finished_id)
    claimed = requested()
    deploy.store.create(
        deploy.store.records[finished_id].model_copy(update={"command_id": claimed.command_id, "state": "claimed"})
    )
    not_yet = _cancel(deploy, claimed.command_id)

    reasons = [events[0].reason for events in (unknown, finished, not_yet) if isinstance(events[0], CommandRejected)]
    assert len(reasons) == 3
    assert "No deploy has id" in reasons[0] and "already finished (SUCCESS)" in reasons[1]
    assert "not in Jenkins yet" in reasons[2]


def test_jenkins_failing_to_stop_is_reported_retryable() -> None:
    deploy = MemoryDeploy()
    command_id = _running(deploy)
    deploy.jenkins.fail("stop", lambda: JenkinsUnavailableError("HTTP 500"))

    [failed] = _cancel(deploy, command_id)

    assert isinstance(failed, CommandFailed) and failed.retryable
    claim = deploy.store.get(command_id)
    assert claim is not None and claim.cancelled_by is None


def test_a_malformed_id_is_rejected() -> None:
    deploy = MemoryDeploy()
    [rejected] = _cancel(deploy, "../etc")
    assert isinstance(rejected, CommandRejected) and "not a command id" in rejected.reason
