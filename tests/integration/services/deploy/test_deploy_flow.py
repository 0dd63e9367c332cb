"""A deploy from request to result, through the real python-jenkins client and the fake Jenkins."""

from __future__ import annotations

import pytest

from services.deploy.consumer import consume
from services.deploy.deps import DeployDeps
from services.notifier.messages import thread_reply
from shared.events.models import CommandCancelled, CommandFailed, CommandProgress, CommandRejected, CommandSucceeded
from shared.sqs_lambda import SqsMessage
from tests.support.deploy import deliver_follows, requested
from tests.support.events import eventbridge_body
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import MemoryScheduler
from tests.support.mrkdwn import check_message
from tools.fakes.jenkins import FakeJenkins


def _deploy(deps: DeployDeps, scheduler: MemoryScheduler, **arguments: str) -> str:
    event = requested(arguments=arguments or None)
    consume(SqsMessage(eventbridge_body(event), "m-1"), deps)
    deliver_follows(deps, scheduler)
    return event.command_id


def test_deploy_starts_one_build_and_reports_queued_started_and_succeeded(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    command_id = _deploy(deps, scheduler)

    assert [(b.job, b.parameters) for b in jenkins.triggered] == [
        ("deploy-acme", {"BRANCH": "main", "ENV": "staging", "SLASHOPS_COMMAND_ID": command_id})
    ]
    kinds = [type(event).__name__ for event in publisher.events]
    assert kinds == ["CommandProgress", "CommandProgress", "CommandSucceeded"]
    queued, started, done = publisher.events
    assert isinstance(queued, CommandProgress) and "queued" in queued.message
    assert isinstance(started, CommandProgress) and "#1" in started.message
    assert started.link is not None and started.link.url == f"{jenkins.url}/job/deploy-acme/1/"
    assert isinstance(done, CommandSucceeded) and "#1 succeeded" in done.summary
    assert done.duration_seconds == pytest.approx(4.321)
    assert done.links[0].url == f"{jenkins.url}/job/deploy-acme/1/"
    assert all(event.command_id == command_id and event.source == "slashops.deploy" for event in publisher.events)


def test_follow_messages_are_delayed_and_the_chain_ends(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler
) -> None:
    jenkins.polls_before_finish = 3
    consume(SqsMessage(eventbridge_body(requested()), "m-1"), deps)

    assert [(m.seq, delay) for m, delay in scheduler.scheduled] == [(0, deps.settings.first_follow_delay)]
    steps = deliver_follows(deps, scheduler)
    assert steps == 6  # queue: waiting, started; build: 3 polls building, then finished
    assert scheduler.scheduled == []


def test_per_client_and_environment_overrides_choose_job_and_parameters(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler
) -> None:
    command_id = _deploy(deps, scheduler, client="globex", branch="release/2.4", env="production")

    assert [(b.job, b.parameters) for b in jenkins.triggered] == [
        ("globex-prod", {"TARGET": "prod", "GIT_REF": "release/2.4", "SLASHOPS_COMMAND_ID": command_id})
    ]


def test_seed_access_only_config_deploys_any_client_with_the_default_job(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    deps.config = StaticConfig.from_text('{"command": "deploy", "users": ["U0STARTER"]}')
    jenkins.jobs.add("deploy-newco")

    _deploy(deps, scheduler, client="newco", branch="main")

    assert [b.job for b in jenkins.triggered] == ["deploy-newco"]
    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_unknown_client_is_rejected_before_any_jenkins_call(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    _deploy(deps, scheduler, client="umbrella", branch="main")

    assert jenkins.requests == []
    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected)
    assert "umbrella" in rejected.reason and "acme, globex, initech" in rejected.hint


@pytest.mark.parametrize("branch", ["main..evil", "-rf", "a b", "x.lock", "refs/heads/@{1}"])
def test_invalid_branch_is_rejected_again_in_the_service(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher, branch: str
) -> None:
    _deploy(deps, scheduler, client="acme", branch=branch)

    assert jenkins.requests == []
    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected) and "branch" in rejected.reason


def test_failed_build_reports_result_duration_and_console_tail(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.result = "FAILURE"
    jenkins.console = "\n".join(f"line {n}" for n in range(1, 101)) + "\nERROR: migration failed\n"

    _deploy(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandFailed)
    assert "#1" in final.reason and "FAILURE" in final.reason
    assert final.output.splitlines()[-1] == "ERROR: migration failed"
    assert len(final.output.splitlines()) == deps.settings.console_lines
    assert "line 1\n" not in final.output
    assert final.duration_seconds == pytest.approx(4.321)


SECRET_CONSOLE = (
    "Started by user slashops\n"
    "+ git clone https://deployer:s3cr3t-pw@git.example.com/acme/app.git\n"
    "+ export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\n"
    "> Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl\n"
    "HEAD is now at 3f786850e387550fdab836ed7e6dc881de23001b\n"
    "<!channel> ```\n"
    "ERROR: migration 0042 failed for <@U0EVIL>\n"
)


def test_failed_build_thread_shows_the_masked_escaped_console_tail_and_the_full_log(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.result, jenkins.console = "FAILURE", SECRET_CONSOLE

    _deploy(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandFailed)
    assert "s3cr3t-pw" not in final.output and "wJalrXUtnFEMI" not in final.output and "eyJhbG" not in final.output
    assert "https://deployer:****@git.example.com" in final.output and "AWS_SECRET_ACCESS_KEY=****" in final.output
    assert "Authorization: Bearer ****" in final.output and "3f786850e387550fdab836ed7e6dc881de23001b" in final.output
    body = check_message(thread_reply(final))
    assert "&lt;!channel&gt; \u02cb\u02cb\u02cb" in body and "failed for &lt;@U0EVIL&gt;```" in body
    assert f"<{jenkins.url}/job/deploy-acme/1/console|Full log>" in body
    assert f"<{jenkins.url}/job/deploy-acme/1/|Build #1>" in body


def test_a_console_jenkins_cannot_return_still_gives_the_result_and_the_links(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.failing = ("deploy-*",)
    jenkins.fail(500, path="consoleText", times=None)

    _deploy(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandFailed) and final.output == ""
    assert (
        "finished with FAILURE" in final.reason
        and "did not return its console (Jenkins answered HTTP 500" in final.reason
    )
    assert [link.url for link in final.links] == [
        f"{jenkins.url}/job/deploy-acme/1/",
        f"{jenkins.url}/job/deploy-acme/1/console",
    ]


def test_build_aborted_in_jenkins_is_reported_as_cancelled_outside_slashops(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.result = "ABORTED"

    _deploy(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandCancelled) and final.cancelled_by == ""
    assert "cancelled in Jenkins (not through slashops)" in final.reason
    assert final.output == "Started by user slashops\nDeploying...\nFinished"
    assert final.links[-1].url == f"{jenkins.url}/job/deploy-acme/1/console"


def test_queue_item_forgotten_by_jenkins_is_found_by_its_command_id(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_start = 100
    consume(SqsMessage(eventbridge_body(requested()), "m-1"), deps)
    jenkins.start_now(1)
    del jenkins.queue[1]  # Jenkins drops queue items minutes after they leave the queue

    deliver_follows(deps, scheduler)

    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_queue_item_gone_without_a_build_is_reported(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_start = 100
    consume(SqsMessage(eventbridge_body(requested()), "m-1"), deps)
    del jenkins.queue[1]

    deliver_follows(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandFailed) and "lost its queue item" in final.reason
