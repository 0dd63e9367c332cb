"""Every deploy message escapes what it quotes once, and mentions stay mentions all the way to Slack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.deploy import messages
from services.deploy.deps import DeployDeps
from services.deploy.errors import (
    JenkinsAuthError,
    JenkinsError,
    JenkinsNotFoundError,
    JenkinsProtocolError,
    JenkinsSetupError,
    JenkinsUnavailableError,
)
from services.deploy.models import ClaimRecord
from services.notifier.messages import format_event
from shared.events.models import CommandFailed, CommandRejected
from tests.support.deploy import cancel_deploy, requested
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import Untouchable
from tests.support.mrkdwn import HOSTILE, check_message, check_mrkdwn, shows_once


def _record(**changes: object) -> ClaimRecord:
    fields: dict[str, object] = {
        "command_id": "abc123def456",
        "state": "running",
        "claim_token": "t",
        "claimed_at": 0,
        "job": HOSTILE,
        "parameters": {},
        "id_parameter": "SLASHOPS_COMMAND_ID",
        "client": HOSTILE,
        "env": "staging",
        "branch": HOSTILE,
        "requested_by": "UALICE",
        "reply_to": requested().reply_to,
        "cancelled_by": "UBOB",
    }
    return ClaimRecord.model_validate(fields | changes)


MESSAGES: list[Callable[[ClaimRecord], str]] = [
    messages.what,
    messages.queued,
    lambda record: messages.started(record, 7),
    lambda record: messages.succeeded(record, 7),
    lambda record: messages.aborted(record, 7),
    lambda record: messages.aborted(record, None),
    lambda record: messages.failed(record, 7, HOSTILE),
    lambda record: messages.gave_up_following(record, 7, HOSTILE),
    *(
        (lambda record, kind=kind: messages.jenkins_failure(kind(HOSTILE), record))  # type: ignore[misc]
        for kind in (
            JenkinsAuthError,
            JenkinsNotFoundError,
            JenkinsUnavailableError,
            JenkinsProtocolError,
            JenkinsError,
        )
    ),
    lambda record: " ".join(messages.unknown_client(HOSTILE, (HOSTILE,))),
    lambda record: " ".join(messages.branch_refused(HOSTILE, HOSTILE, HOSTILE)),
]


@pytest.mark.parametrize("message", MESSAGES)
def test_every_deploy_message_shows_quoted_values_escaped_once(message: Callable[[ClaimRecord], str]) -> None:
    shown = message(_record())
    check_mrkdwn(shown)
    assert shows_once(shown)


def test_aborted_names_who_cancelled_with_a_real_mention() -> None:
    assert "cancelled by <@UBOB>" in messages.aborted(_record(), 7)


def test_a_build_aborted_outside_slashops_says_so() -> None:
    assert "cancelled in Jenkins (not through slashops)" in messages.aborted(_record(cancelled_by=None), 7)


class OneRecord:
    def __init__(self, record: ClaimRecord) -> None:
        self.record = record

    def get(self, command_id: str) -> ClaimRecord | None:
        return self.record if command_id == self.record.command_id else None


def test_a_refused_cancel_reaches_slack_with_a_mention_not_its_escaped_text() -> None:
    """Issue #14: Slack showed "Only &lt;@UALICE&gt;, who started…" (escaped by the service and the notifier)."""
    publisher = RecordingPublisher()
    deps = DeployDeps(
        jenkins=Untouchable(),  # type: ignore[arg-type]
        store=OneRecord(_record(job="deploy-acme", client="acme", branch="main")),  # type: ignore[arg-type]
        scheduler=Untouchable(),  # type: ignore[arg-type]
        publisher=publisher,
        config=StaticConfig.from_text('[{"command": "cancel", "users": ["UADMIN"]}, {"command": "deploy"}]'),
    )
    event = requested("cancel", command_id="feed00000001", user_id="UMALLORY", arguments={"id": "abc123def456"})
    cancel_deploy(event.model_copy(update={"requested_at": datetime.now(UTC)}), deps)

    [refusal] = publisher.events
    assert isinstance(refusal, CommandRejected)
    body = check_message(format_event(refusal))
    assert "Only <@UALICE>, who started deploy `abc123def456`" in body
    assert "&lt;" not in body and "&amp;" not in body


def test_a_deploy_result_shown_by_the_notifier_keeps_its_escaping_single() -> None:
    event = CommandFailed(
        command_id="abc123def456",
        command="deploy",
        source="slashops.deploy",
        reply_to=requested().reply_to,
        reason=messages.aborted(_record(), 7),
    )
    body = check_message(format_event(event))
    assert shows_once(body) and "cancelled by <@UBOB>" in body


def test_missing_jenkins_credentials_show_the_incident_never_the_variables() -> None:
    shown = messages.jenkins_failure(
        JenkinsSetupError("no JENKINS_URL (JENKINS_SECRET_ID)", incident="0badc0de"), _record()
    )
    assert shown == (
        "slashops cannot log in to Jenkins: slashops is misconfigured; the admins have the details "
        "(incident `0badc0de`)."
    )
