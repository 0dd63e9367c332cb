"""One deploy per client and environment: a second one is refused while the first runs, naming it and its starter."""

from __future__ import annotations

import pytest

from services.deploy.errors import JenkinsAuthError, JenkinsUnavailableError
from services.deploy.following import follow
from services.deploy.models import Delivery, FollowMessage, TargetHold
from shared.events.models import CommandRejected, CommandRequested
from tests.support.deploy import CONFIG, STARTER, MemoryDeploy, cancel_deploy, requested, start_deploy

PRODUCTION = {"client": "acme", "branch": "main", "env": "production"}


def _deploy(deploy: MemoryDeploy, *, user_id: str = "U0STARTER", **arguments: str) -> CommandRequested:
    event = requested(arguments={**PRODUCTION, **arguments}, user_id=user_id)
    start_deploy(event, deploy.deps)
    return event


def _rejections(deploy: MemoryDeploy) -> list[CommandRejected]:
    return [event for event in deploy.publisher.events if isinstance(event, CommandRejected)]


def test_a_second_deploy_while_one_runs_is_refused_naming_the_running_one() -> None:
    deploy = MemoryDeploy()
    first = _deploy(deploy)
    deploy.clock.now += 180

    second = _deploy(deploy, branch="hotfix")

    assert len(deploy.jenkins.triggered) == 1
    [rejected] = _rejections(deploy)
    assert rejected.command_id == second.command_id
    assert rejected.reason == (
        f"`acme` is already being deployed to *production*: deploy `{first.command_id}` by <@U0STARTER>, "
        "started 3 min ago. Nothing was started."
    )
    assert f"`/ops status {first.command_id}`" in rejected.hint and f"`/ops cancel {first.command_id}`" in rejected.hint
    refused = deploy.store.get(second.command_id)
    assert refused is not None and (refused.state, refused.result) == ("finished", "target busy")


def test_another_environment_or_client_is_not_blocked() -> None:
    deploy = MemoryDeploy()
    _deploy(deploy)
    _deploy(deploy, env="staging")
    _deploy(deploy, client="globex")
    assert len(deploy.jenkins.triggered) == 3 and _rejections(deploy) == []


@pytest.mark.parametrize("result", ["SUCCESS", "FAILURE", "ABORTED"])
def test_once_the_first_has_finished_a_new_deploy_runs(result: str) -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.result = result
    _deploy(deploy)
    deploy.follow_all()

    _deploy(deploy)

    assert len(deploy.jenkins.triggered) == 2 and _rejections(deploy) == []


def test_a_cancelled_deploy_frees_its_target_once_jenkins_has_stopped_it() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.polls_before_finish = 10
    first = _deploy(deploy)
    while (running := deploy.store.get(first.command_id)) is not None and running.state != "running":
        follow(deploy.scheduler.pop(), deploy.deps, Delivery(message_id=f"m-{len(deploy.jenkins.calls)}"))
    _deploy(deploy)  # refused: still running

    cancel_deploy(requested("cancel", arguments={"id": first.command_id}, user_id="U0LEAD"), deploy.deps)
    deploy.follow_all()
    _deploy(deploy)

    assert len(deploy.jenkins.triggered) == 2 and len(_rejections(deploy)) == 1
    assert deploy.jenkins.stopped == [("deploy-acme", 1)]


def test_a_deploy_that_jenkins_refused_frees_its_target() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.fail("trigger", lambda: JenkinsAuthError("401 Unauthorized"))
    _deploy(deploy)
    _deploy(deploy)
    assert len(deploy.jenkins.triggered) == 1 and _rejections(deploy) == []


def test_a_client_that_allows_concurrency_runs_both() -> None:
    deploy = MemoryDeploy(config=CONFIG.replace("acme: {}", "acme: {concurrent: true}"))
    _deploy(deploy)
    _deploy(deploy)
    assert len(deploy.jenkins.triggered) == 2 and _rejections(deploy) == []


def test_a_redelivery_of_the_running_deploy_does_not_refuse_itself() -> None:
    deploy = MemoryDeploy()
    first = _deploy(deploy)
    start_deploy(first, deploy.deps, Delivery(message_id="m-2", receive_count=2))
    assert len(deploy.jenkins.triggered) == 1 and _rejections(deploy) == []


def test_a_redelivery_after_a_transient_trigger_failure_keeps_its_hold_and_triggers() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.fail("trigger", lambda: JenkinsUnavailableError("timed out"))
    event = requested(arguments=PRODUCTION)
    with pytest.raises(JenkinsUnavailableError):
        start_deploy(event, deploy.deps)
    other = _deploy(deploy)  # meanwhile: refused, the first still holds the target

    start_deploy(event, deploy.deps, Delivery(message_id="m-2", receive_count=2))

    assert [parameters["SLASHOPS_COMMAND_ID"] for _, parameters in deploy.jenkins.triggered] == [event.command_id]
    [rejected] = _rejections(deploy)
    assert rejected.command_id == other.command_id and event.command_id in rejected.reason


def test_a_stale_hold_is_taken_over() -> None:
    deploy = MemoryDeploy()
    first = _deploy(deploy)
    deploy.store.records.pop(first.command_id)  # as if its deploy ended without releasing (crash, lost claim)
    deploy.clock.now += deploy.settings.max_follow_seconds + 1

    _deploy(deploy)

    assert len(deploy.jenkins.triggered) == 2 and _rejections(deploy) == []


def test_a_hold_just_within_the_follow_time_still_refuses() -> None:
    deploy = MemoryDeploy()
    _deploy(deploy)
    deploy.clock.now += deploy.settings.max_follow_seconds - 1
    _deploy(deploy)
    [rejected] = _rejections(deploy)
    assert "started 5 h 59 min ago" in rejected.reason


def test_a_follow_redelivered_after_finishing_releases_the_target() -> None:
    deploy = MemoryDeploy()
    first = _deploy(deploy)
    deploy.follow_all()
    deploy.store.take_target(  # as if the Lambda crashed between finishing the claim and releasing the target
        TargetHold(
            client="acme",
            env="production",
            command_id=first.command_id,
            requested_by=STARTER,
            since=int(deploy.clock.now),
        ),
        stale_before=0,
    )
    follow(FollowMessage(command_id=first.command_id, seq=3), deploy.deps, Delivery(message_id="m-again"))
    _deploy(deploy)
    assert len(deploy.jenkins.triggered) == 2 and _rejections(deploy) == []
