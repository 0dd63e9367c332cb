"""Following on the in-memory ports: one look per step, a chain that never forks, failures reported once."""

from __future__ import annotations

import pytest

from services.deploy.deps import DeploySettings
from services.deploy.errors import JenkinsAuthError, JenkinsError, JenkinsNotFoundError, JenkinsUnavailableError
from services.deploy.following import follow
from services.deploy.models import Delivery, FollowMessage
from services.deploy.ports import MAX_DELAY_SECONDS
from shared.events.models import CommandCancelled, CommandFailed, CommandProgress, CommandSucceeded
from tests.support.deploy import MemoryDeploy, requested, start_deploy


def _started(deploy: MemoryDeploy, **script: int) -> str:
    for name, value in script.items():
        setattr(deploy.jenkins, name, value)
    event = requested()
    start_deploy(event, deploy.deps)
    return event.command_id


def test_each_step_looks_once_and_schedules_the_next_with_the_follow_delay() -> None:
    deploy = MemoryDeploy()
    _started(deploy, polls_before_finish=2)

    steps = deploy.follow_all()

    assert steps == 5 and deploy.jenkins.calls.count("build") == 3
    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandSucceeded) and final.duration_seconds == 4.321 and final.links


def test_a_duplicated_follow_message_does_not_fork_the_chain() -> None:
    deploy = MemoryDeploy()
    _started(deploy)
    deploy.scheduler.scheduled.append(deploy.scheduler.scheduled[0])  # SQS delivered it twice

    deploy.follow_all()

    events = deploy.publisher.events
    assert sum(isinstance(e, CommandSucceeded) for e in events) == 1
    assert sum(isinstance(e, CommandProgress) and "started" in e.message for e in events) == 1


def test_a_redelivery_of_the_same_follow_message_redoes_its_step() -> None:
    deploy = MemoryDeploy()
    _started(deploy, polls_before_start=0)
    message = deploy.scheduler.pop()
    follow(message, deploy.deps, Delivery(message_id="f-1"))
    deploy.scheduler.scheduled.clear()  # the crash: its follow-up was never sent

    follow(message, deploy.deps, Delivery(message_id="f-1", receive_count=2))

    assert len(deploy.scheduler.scheduled) == 1


def test_jenkins_unavailable_backs_off_doubling_then_completes() -> None:
    deploy = MemoryDeploy()
    _started(deploy)
    deploy.jenkins.fail("queue_item", lambda: JenkinsUnavailableError("HTTP 502"))

    follow(deploy.scheduler.pop(), deploy.deps, Delivery(message_id="f-1"))

    [(retry, delay)] = deploy.scheduler.scheduled
    assert retry.failures == 1 and delay == deploy.settings.follow_delay * 2
    deploy.follow_all()
    assert isinstance(deploy.publisher.events[-1], CommandSucceeded)


def test_the_backoff_never_exceeds_the_schedulers_limit() -> None:
    deploy = MemoryDeploy()
    deploy.deps.settings = DeploySettings(follow_delay=600, max_follow_failures=3)
    _started(deploy)
    deploy.jenkins.fail("queue_item", lambda: JenkinsUnavailableError("HTTP 502"))

    follow(deploy.scheduler.pop(), deploy.deps, Delivery(message_id="f-1"))

    assert deploy.scheduler.scheduled[0][1] == MAX_DELAY_SECONDS


def test_jenkins_staying_down_ends_in_one_retryable_failure() -> None:
    deploy = MemoryDeploy()
    _started(deploy)
    deploy.jenkins.fail("queue_item", lambda: JenkinsUnavailableError("HTTP 500"), times=None)

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandFailed) and final.retryable and "stayed unavailable" in final.reason


def test_refused_credentials_mid_follow_fail_with_a_fix() -> None:
    deploy = MemoryDeploy()
    _started(deploy)
    deploy.jenkins.fail("queue_item", lambda: JenkinsAuthError("HTTP 403"))

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandFailed) and "credentials" in final.reason and not final.retryable


def test_a_failed_build_reports_its_console_tail() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.result = "FAILURE"
    deploy.jenkins.console = "\n".join(f"line {n}" for n in range(100)) + "\nERROR: migration failed\n"
    _started(deploy)

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandFailed) and "FAILURE" in final.reason
    assert final.output.splitlines()[-1] == "ERROR: migration failed"
    assert len(final.output.splitlines()) == deploy.settings.console_lines


def test_a_queue_item_jenkins_forgot_is_found_by_the_command_id() -> None:
    deploy = MemoryDeploy()
    _started(deploy, polls_before_start=100)
    deploy.jenkins.start_now(1)
    del deploy.jenkins.queue[1]

    deploy.follow_all()

    assert isinstance(deploy.publisher.events[-1], CommandSucceeded)


def test_a_queue_item_gone_without_a_build_is_reported_lost() -> None:
    deploy = MemoryDeploy()
    command_id = _started(deploy, polls_before_start=100)
    del deploy.jenkins.queue[1]

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandFailed) and "lost its queue item" in final.reason
    claim = deploy.store.get(command_id)
    assert claim is not None and (claim.state, claim.result) == ("finished", "lost")


def test_a_build_running_too_long_stops_being_followed() -> None:
    deploy = MemoryDeploy()
    _started(deploy, polls_before_start=0, polls_before_finish=1000)
    follow(deploy.scheduler.pop(), deploy.deps, Delivery(message_id="f-1"))
    deploy.clock.now += deploy.settings.max_follow_seconds + 1

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandFailed) and "Stopped following build #1" in final.reason and final.links


def test_a_follow_message_for_a_finished_or_unknown_deploy_does_nothing() -> None:
    deploy = MemoryDeploy()
    command_id = _started(deploy)
    deploy.follow_all()
    calls = len(deploy.jenkins.calls)

    follow(FollowMessage(command_id=command_id, seq=0), deploy.deps, Delivery("f-late"))
    follow(FollowMessage(command_id="000000000000", seq=0), deploy.deps, Delivery("f-unknown"))

    assert len(deploy.jenkins.calls) == calls and deploy.scheduler.scheduled == []


def test_a_follow_step_reads_the_claim_only_through_its_step_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """One DynamoDB call fewer per step (and per round trip on the way to the final message)."""
    deploy = MemoryDeploy()
    _started(deploy)
    reads: list[str] = []
    original_get = deploy.store.get
    monkeypatch.setattr(deploy.store, "get", lambda command_id: reads.append(command_id) or original_get(command_id))

    steps = deploy.follow_all()

    assert steps == 4 and reads == []
    assert isinstance(deploy.publisher.events[-1], CommandSucceeded)


SECRET_CONSOLE = (
    "Started by user slashops\n"
    "+ git clone https://deployer:s3cr3t@git.example.com/acme/app.git\n"
    "+ export DEPLOY_TOKEN=tok-123456\n"
    "HEAD is now at 3f786850e387550fdab836ed7e6dc881de23001b\n"
    "ERROR: migration 0042 failed\n"
)


def test_a_failed_builds_console_tail_is_masked_and_comes_with_the_full_log_link() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.result, deploy.jenkins.console = "FAILURE", SECRET_CONSOLE
    _started(deploy)

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandFailed)
    assert "s3cr3t" not in final.output and "tok-123456" not in final.output
    assert "https://deployer:****@git.example.com/acme/app.git" in final.output and "DEPLOY_TOKEN=****" in final.output
    assert "3f786850e387550fdab836ed7e6dc881de23001b" in final.output
    assert final.output.endswith("ERROR: migration 0042 failed")
    assert [(link.label, link.url) for link in final.links] == [
        ("Build #1", "http://jenkins.test/job/deploy-acme/1/"),
        ("Full log", "http://jenkins.test/job/deploy-acme/1/console"),
    ]


def test_an_aborted_build_reports_its_console_tail_too() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.result, deploy.jenkins.console = "ABORTED", SECRET_CONSOLE + "Aborted by admin\n"
    _started(deploy)

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandCancelled)
    assert final.output.endswith("Aborted by admin") and "DEPLOY_TOKEN=****" in final.output
    assert "tok-123456" not in final.output
    assert [link.label for link in final.links] == ["Build #1", "Full log"]


@pytest.mark.parametrize(
    "error", [JenkinsUnavailableError("Jenkins answered HTTP 502"), JenkinsNotFoundError("Jenkins has no log")]
)
def test_a_console_jenkins_cannot_return_still_gives_the_result_and_the_links(error: JenkinsError) -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.result = "FAILURE"
    deploy.jenkins.fail("console_tail", lambda: error, times=None)
    command_id = _started(deploy)

    deploy.follow_all()

    final = deploy.publisher.events[-1]
    assert isinstance(final, CommandFailed) and final.output == "" and not final.retryable
    assert "finished with FAILURE" in final.reason and "did not return its console" in final.reason
    assert [link.label for link in final.links] == ["Build #1", "Full log"]
    claim = deploy.store.get(command_id)
    assert claim is not None and (claim.state, claim.result) == ("finished", "FAILURE")
