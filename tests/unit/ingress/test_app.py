"""Route tests: signed bodies through the real Chalice app, with fake config and publisher."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from shared.errors import ConfigurationError
from shared.events.models import CommandRequested
from tests.support.events import at, command_requested
from tests.support.fakes import StaticConfig
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.names import EXAMPLE_USER_ID, MemoryNameDirectory
from tests.support.incidents import incident_shown, logged_detail
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, signed_headers, slash_form


def test_accepted_deploy_is_published_and_acknowledged(ingress: Ingress) -> None:
    status, payload = ingress.send("deploy --client acme --branch main")

    assert status == 200
    assert payload["response_type"] == "ephemeral"
    text = message_text(payload)
    assert "c0ffee123456" in text and "`--client acme`" in text and "`--env staging`" in text
    [event] = ingress.publisher.events
    assert isinstance(event, CommandRequested)
    assert event.command == "deploy"
    assert event.arguments == {"client": "acme", "branch": "main", "env": "staging"}
    assert event.actor.user_id == "U0ABC" and event.actor.user_name == "example.user"
    assert event.place.channel_id == "C0123" and event.place.channel_name == "ops"
    assert event.reply_to.response_url.startswith("https://hooks.slack.com/")
    assert event.reply_to.visibility == "in_channel"
    assert event.command_id == "c0ffee123456" and event.long_running


def test_slack_mangled_text_still_parses(ingress: Ingress) -> None:
    status, _ = ingress.send("deploy \u2014client \u201cacme\u201d\u00a0\u2014branch main")
    assert status == 200
    assert ingress.publisher.events[0].arguments["client"] == "acme"  # type: ignore[attr-defined]


def test_help_lists_every_command_with_its_summary(ingress: Ingress) -> None:
    _, payload = ingress.send("help")
    text = message_text(payload)
    for name in ("deploy", "backup", "restore", "help"):
        assert f"`{name}`" in text
    assert "Deploy a client's branch" in text
    assert not ingress.publisher.requested


def test_empty_text_shows_help(ingress: Ingress) -> None:
    _, payload = ingress.send("")
    assert "/ops commands" in message_text(payload)


def test_help_for_a_command_shows_usage_options_and_examples(ingress: Ingress) -> None:
    answers = []
    for text in ("help deploy", "deploy --help", "deploy -h"):
        _, payload = ingress.send(text)
        shown = message_text(payload)
        assert "/ops deploy --client CLIENT --branch BRANCH [--env {staging,production}]" in shown
        assert "the environment to deploy to" in shown and "default: staging" in shown
        assert "/ops deploy --client acme --branch main" in shown
        assert "You may run this in this channel (rule #1)." in shown  # issue 21.14: `--help` says it too
        answers.append(shown)
    assert answers[0] == answers[1] == answers[2]


def test_help_is_open_to_everyone_even_with_a_broken_config(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig(ConfigurationError("broken"))
    _, payload = ingress.send("help deploy", user_id="U9OTHER", channel_id="C9OTHER")
    assert "Usage" in message_text(payload)


def test_unknown_command_suggests_the_closest(ingress: Ingress) -> None:
    status, payload = ingress.send("deplyo --client acme")
    text = message_text(payload)
    assert status == 200
    assert "Unknown command" in text and "Did you mean `deploy`?" in text and "/ops help" in text


def test_help_for_an_unknown_command_suggests_the_closest(ingress: Ingress) -> None:
    _, payload = ingress.send("help restor")
    assert "Did you mean `restore`?" in message_text(payload)


def test_user_not_in_rule_is_denied_before_arguments_are_checked(ingress: Ingress) -> None:
    _, payload = ingress.send("deploy", user_id="U9OTHER", user_name="someone")
    text = message_text(payload)
    assert "Not allowed" in text and "not allowed to run `deploy`" in text
    assert not ingress.publisher.requested


def test_a_user_named_in_a_rule_is_matched_by_the_id_slack_gives_that_name(ingress: Ingress) -> None:
    _, payload = ingress.send("deploy --client acme --branch main", user_id=EXAMPLE_USER_ID, user_name="renamed")
    assert "accepted" in message_text(payload)


def test_a_request_calling_itself_by_a_name_in_the_rules_is_not_that_user(ingress: Ingress) -> None:
    """Issue 19.1: `user_name` is the sender's to choose; only the ID Slack resolves the rule's name to counts."""
    _, payload = ingress.send("deploy --client acme --branch main", user_id="U0MALLORY", user_name="example.user")
    assert "not allowed" in message_text(payload)
    _, payload = ingress.send("deploy --client acme --branch main", user_id="U0MALLORY", user_name="U0ABC")
    assert "not allowed" in message_text(payload)
    assert not ingress.publisher.requested


def test_a_name_slack_cannot_resolve_admits_no_one(ingress: Ingress) -> None:
    ingress.deps.names = MemoryNameDirectory(unavailable=True)
    _, payload = ingress.send("deploy --client acme --branch main", user_id=EXAMPLE_USER_ID, user_name="example.user")
    assert "not allowed" in message_text(payload) and "could not be asked" in message_text(payload)
    ingress.deps.names = None
    _, payload = ingress.send("deploy --client acme --branch main", user_id=EXAMPLE_USER_ID, user_name="example.user")
    assert "not allowed" in message_text(payload)
    _, payload = ingress.send("deploy --client acme --branch main")  # U0ABC: listed by ID, needs no Slack
    assert "accepted" in message_text(payload)


def test_a_pinned_workspace_refuses_every_other_team(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text(
        json.dumps({"access": [{"command": "*"}], "slack": {"team_id": "T0HOME"}})
    )
    _, payload = ingress.send("help", team_id="T0OTHER")
    assert "workspace this slashops does not serve" in message_text(payload)
    _, payload = ingress.send("deploy --client acme --branch main", team_id="T0OTHER")
    assert "workspace this slashops does not serve" in message_text(payload)
    assert not ingress.publisher.requested
    _, payload = ingress.send("deploy --client acme --branch main", team_id="T0HOME")
    assert "accepted" in message_text(payload)


def test_wrong_channel_is_denied_with_its_own_reason(ingress: Ingress) -> None:
    _, payload = ingress.send("deploy --client acme --branch main", channel_id="C9OTHER", channel_name="random")
    assert "cannot be run in this channel" in message_text(payload)


def test_rule_without_users_admits_anyone_in_its_channels(ingress: Ingress) -> None:
    _, payload = ingress.send("backup --db orders", user_id="U9OTHER", user_name="x")
    assert "accepted" in message_text(payload)


def test_rule_without_channels_admits_any_channel(ingress: Ingress) -> None:
    _, payload = ingress.send("restore --db orders --from b1 --confirm orders", channel_id="C9OTHER")
    assert "accepted" in message_text(payload)


def test_command_without_any_rule_is_denied(ingress: Ingress) -> None:
    _, payload = ingress.send("backups --db orders")
    assert "No one is allowed to run `backups` yet" in message_text(payload)


def test_missing_arguments_are_named_with_usage(ingress: Ingress) -> None:
    _, payload = ingress.send("deploy --client acme")
    text = message_text(payload)
    assert "Invalid arguments" in text and "--branch" in text and "Usage: `/ops deploy" in text
    assert not ingress.publisher.requested


def test_invalid_choice_is_refused_with_the_closest_choice(ingress: Ingress) -> None:
    _, payload = ingress.send("deploy --client acme --branch main --env prod")
    assert "`--env prod` is not one of staging, production; did you mean `production`?" in message_text(payload)


def test_a_typo_in_an_option_is_pointed_at(ingress: Ingress) -> None:
    _, payload = ingress.send("deploy --clinet acme --branch main")
    assert "Unknown option `--clinet`; did you mean `--client`?" in message_text(payload)
    assert not ingress.publisher.requested


def test_configuration_error_fails_closed_with_an_incident_id_and_no_detail(
    ingress: Ingress, caplog: pytest.LogCaptureFixture
) -> None:
    problem = "/etc/slashops/config.yaml: access rule #1 (command 'deploy'), field 'users': unknown key"
    ingress.deps.config = StaticConfig(ConfigurationError(problem))
    _, payload = ingress.send("deploy --client acme --branch main")
    text = message_text(payload)
    incident = incident_shown(text, "config.yaml", "/etc/", "rule #1", "users", "unknown key")
    logged_detail(caplog, incident, "/etc/slashops/config.yaml", "access rule #1", "field 'users'")
    assert not ingress.publisher.requested


def test_a_configuration_error_in_history_shows_no_detail(ingress: Ingress, caplog: pytest.LogCaptureFixture) -> None:
    ingress.deps.ledger = InMemoryLedger()
    ingress.deps.ledger.record(command_requested(user="U0OTHER"), now=at(0))
    ingress.deps.config = StaticConfig(ConfigurationError("ssm:/slashops/config: cannot read (ClientError)"))
    _, payload = ingress.send("history")
    incident = incident_shown(message_text(payload), "ssm:", "/slashops/config")
    logged_detail(caplog, incident, "ssm:/slashops/config")


def test_publish_failure_tells_the_user_nothing_was_queued(ingress: Ingress) -> None:
    ingress.publisher.fail = True
    status, payload = ingress.send("deploy --client acme --branch main")
    assert status == 200
    assert "Command not queued" in message_text(payload)


def test_every_error_has_the_same_shape(ingress: Ingress) -> None:
    shapes = set()
    for text in ("nope", "deploy --client acme", "backups --db x", 'deploy --client "acme'):
        _, payload = ingress.send(text)
        shapes.add((payload["response_type"], tuple(block["type"] for block in payload["blocks"])))
        assert payload["blocks"][0]["text"]["text"].startswith(":warning: *")
    assert shapes == {("ephemeral", ("section", "context"))}


def test_user_text_is_escaped_in_messages(ingress: Ingress) -> None:
    _, payload = ingress.send("<script>")
    assert "<script>" not in json.dumps(payload["blocks"])


def test_forged_signature_is_401_and_publishes_nothing(ingress: Ingress) -> None:
    body = urlencode(slash_form("deploy --client acme --branch main")).encode()
    headers = signed_headers(body, secret="not-the-secret")
    response = ingress.client.http.post("/slack/commands", headers=headers, body=body)
    assert response.status_code == 401
    assert not ingress.publisher.requested


def test_stale_signature_is_401(ingress: Ingress) -> None:
    body = urlencode(slash_form("help")).encode()
    headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    assert ingress.client.http.post("/slack/commands", headers=headers, body=body).status_code == 401


def test_missing_signature_is_401(ingress: Ingress) -> None:
    body = urlencode(slash_form("help")).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert ingress.client.http.post("/slack/commands", headers=headers, body=body).status_code == 401


def test_tampered_body_is_401(ingress: Ingress) -> None:
    body = urlencode(slash_form("help")).encode()
    headers = signed_headers(body)
    tampered = body.replace(b"help", b"deploy")
    assert ingress.client.http.post("/slack/commands", headers=headers, body=tampered).status_code == 401


def test_ssl_check_is_200(ingress: Ingress) -> None:
    body = b"ssl_check=1&token=abc"
    response = ingress.client.http.post("/slack/commands", headers=signed_headers(body), body=body)
    assert response.status_code == 200


def test_signed_but_incomplete_form_gets_a_slack_message(ingress: Ingress) -> None:
    body = b"text=help"
    response = ingress.client.http.post("/slack/commands", headers=signed_headers(body), body=body)
    assert response.status_code == 200
    assert "Malformed request" in message_text(json.loads(response.body))


def test_unexpected_exception_becomes_a_message_with_an_incident_id(ingress: Ingress) -> None:
    def explode() -> str:
        raise RuntimeError("boom")

    ingress.deps.new_id = explode
    status, payload = ingress.send("deploy --client acme --branch main")
    assert status == 200
    assert "incident" in message_text(payload) and "boom" not in message_text(payload)
    assert "nothing was started" not in message_text(payload)  # it may fail after publishing: do not claim that


def test_missing_signing_secret_is_a_configuration_message_not_a_500(caplog: pytest.LogCaptureFixture) -> None:
    from chalice.test import Client

    from app import create_app

    def no_secret() -> str:
        raise ConfigurationError("no Slack signing secret")

    app = create_app(signing_secret=no_secret, deps=lambda: None)  # type: ignore[arg-type,return-value]
    body = urlencode(slash_form("help")).encode()
    with Client(app) as client:
        response = client.http.post("/slack/commands", headers=signed_headers(body, secret=SIGNING_SECRET), body=body)
    assert response.status_code == 200
    incident = incident_shown(response.body.decode(), "signing secret")
    logged_detail(caplog, incident, "no Slack signing secret")


def test_whoami_shows_the_mention_and_the_rule_names_slack_gives_the_caller_never_the_sent_name(
    ingress: Ingress,
) -> None:
    """Issues 19.1 and 21.10: the name a request carries is the sender's choice; the rules' names are Slack's."""
    _, payload = ingress.send("whoami", user_id=EXAMPLE_USER_ID, user_name="someone.else")
    shown = message_text(payload)
    assert f"*You* <@{EXAMPLE_USER_ID}> — `{EXAMPLE_USER_ID}`; named in the rules as `example.user`" in shown
    assert "someone.else" not in shown
