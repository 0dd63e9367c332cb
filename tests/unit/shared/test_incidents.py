from __future__ import annotations

import pytest

from shared.errors import ConfigurationError
from shared.incidents import open_incident
from shared.slack.messages import error_message, misconfigured
from tests.support.incidents import incident_shown, logged_detail
from tests.support.mrkdwn import check_mrkdwn


def test_one_text_for_every_misconfiguration() -> None:
    assert misconfigured("0badc0de") == "slashops is misconfigured; the admins have the details (incident `0badc0de`)."
    assert misconfigured("0badc0de", "backup") == (
        "slashops is misconfigured, so `backup` was not run; the admins have the details (incident `0badc0de`)."
    )


def test_the_detail_is_logged_at_error_under_the_incident_id(caplog: pytest.LogCaptureFixture) -> None:
    error = ConfigurationError("config.yaml: access rule #2 (command 'deploy'), field 'users': empty or null")
    incident = open_incident(error, where="ingress", command_id="abc123def456")
    record = logged_detail(caplog, incident, "config.yaml", "access rule #2", "field 'users'", "ingress")
    assert record.command_id == "abc123def456"  # type: ignore[attr-defined]
    assert open_incident(error, where="ingress") != incident  # one id per occurrence


def test_error_message_never_shows_a_configuration_errors_text(caplog: pytest.LogCaptureFixture) -> None:
    message = error_message(ConfigurationError("ssm:/prod/slashops/config: cannot read (AccessDeniedException)"))
    payload = message.payload()
    check_mrkdwn(message.text)
    incident = incident_shown(str(payload), "ssm:", "/prod/", "AccessDenied")
    logged_detail(caplog, incident, "ssm:/prod/slashops/config: cannot read (AccessDeniedException)")
