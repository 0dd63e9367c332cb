"""`status <id>` and `history` through the real app, reading the real ledger adapter on moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.events import at, command_requested, progress, succeeded
from tests.support.incidents import incident_shown, logged_detail
from tests.support.ingress import Ingress, message_text
from tests.support.ledger import moto_ledger


@pytest.fixture
def ledger(ingress: Ingress, monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDbLedger]:
    with moto_ledger(monkeypatch) as real:
        ingress.deps.ledger = real
        yield real


def _record(
    ledger: DynamoDbLedger,
    command_id: str,
    *,
    user: str = "U0ABC",
    command: str = "deploy",
    minute: float = -30,
    user_name: str = "example.user",
) -> None:
    ledger.record(
        command_requested(command_id, minute=minute, user=user, command=command, user_name=user_name), now=at(minute)
    )


def test_status_shows_state_age_last_message_and_links(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    _record(ledger, "abc123def456", minute=-90)
    ledger.record(progress("tests 40%", minute=-85), now=at(-85))
    ledger.record(succeeded(minute=-80), now=at(-80))

    status, payload = ingress.send("status abc123def456")

    assert status == 200 and payload["response_type"] == "ephemeral"
    text = message_text(payload)
    assert "`deploy` `abc123def456` — *succeeded*" in text
    assert "`--client acme` `--branch main` `--env staging`" in text
    assert "*Last message:* Deployed acme main to staging." in text
    assert "<https://jenkins.example/job/acme/42/|Build #42>" in text
    assert "Run by <@U0ABC>" in text and "1 h ago" in text and "took 300s" in text


def test_status_of_an_unknown_id(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    _, payload = ingress.send("status 000000000000")
    assert "There is no command `000000000000` that you can see." in message_text(payload)


def test_others_commands_are_visible_only_to_people_the_rules_admit(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    _record(ledger, "aaaaaaaaaaaa", user="U0OTHER", user_name="other", command="deploy")
    _record(ledger, "bbbbbbbbbbbb", user="U0OTHER", user_name="other", command="restore")

    # U0ABC is in the deploy and restore rules; U0NEW only in backup's (any user), in neither of these.
    _, allowed = ingress.send("status aaaaaaaaaaaa")
    assert "*requested*" in message_text(allowed)
    _, stranger = ingress.send("status aaaaaaaaaaaa", user_id="U0NEW", user_name="new.person")
    assert "no command `aaaaaaaaaaaa` that you can see" in message_text(stranger)
    _, own = ingress.send("status aaaaaaaaaaaa", user_id="U0OTHER", user_name="other")
    assert "*requested*" in message_text(own)


def test_history_lists_the_latest_visible_commands_newest_first(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    _record(ledger, "cmd000000001", minute=-50)
    _record(ledger, "cmd000000002", user="U0OTHER", user_name="other", minute=-40)
    _record(ledger, "cmd000000003", user="U0NEW", user_name="new.person", command="backup", minute=-30)
    _record(ledger, "cmd000000004", minute=-20, command="restore")

    _, mine = ingress.send("history", user_id="U0NEW", user_name="new.person")
    text = message_text(mine)
    # backup's rule admits any user (in C0123): U0NEW sees backups, and only their own deploys/restores.
    assert "cmd000000003" in text and "cmd000000001" not in text and "cmd000000004" not in text

    _, admin = ingress.send("history")
    lines = [line for line in message_text(admin).splitlines() if "`cmd" in line]
    assert [line.split("`")[1] for line in lines] == ["cmd000000004", "cmd000000003", "cmd000000002", "cmd000000001"]
    assert "<@U0OTHER>" in lines[2] and "40 min ago" in lines[2]


def test_history_filters(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    _record(ledger, "cmd000000001", minute=-50)
    _record(ledger, "cmd000000002", user="U0OTHER", user_name="other", minute=-40)
    _record(ledger, "cmd000000003", command="backup", minute=-30)

    def ids(text: str) -> list[str]:
        _, payload = ingress.send(text)
        return [line.split("`")[1] for line in message_text(payload).splitlines() if "`cmd" in line]

    assert ids("history --mine") == ["cmd000000003", "cmd000000001"]
    assert ids("history --user other") == ["cmd000000002"]
    assert ids("history --user U0OTHER --command deploy") == ["cmd000000002"]
    assert ids("history --command backup") == ["cmd000000003"]
    assert ids("history --limit 2") == ["cmd000000003", "cmd000000002"]


def test_history_with_nothing_to_show(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    _, payload = ingress.send("history --command deploy")
    assert "No commands `deploy` that you can see." in message_text(payload)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("history --limit 0", "`--limit` must be between 1 and 50."),
        ("history --limit 51", "`--limit` must be between 1 and 50."),
        ("history --mine --user other", "Use either `--mine` or `--user`, not both."),
    ],
)
def test_history_usage_errors(ingress: Ingress, ledger: DynamoDbLedger, text: str, problem: str) -> None:
    status, payload = ingress.send(text)
    assert status == 200 and problem in message_text(payload)


def test_a_long_history_stays_within_slack_limits(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    for index in range(50):
        ledger.record(
            command_requested(f"cmd{index:09d}", minute=-index, arguments={"client": "c" * 60, "branch": "b" * 200}),
            now=at(-index),
        )
    _, payload = ingress.send("history --limit 50")
    assert len(payload["blocks"]) <= 50
    assert all(len(block.get("text", {}).get("text", "")) <= 3000 for block in payload["blocks"])
    assert sum("`cmd" in line for line in message_text(payload).splitlines()) == 50


def test_ledger_errors_become_a_message_not_a_500(ingress: Ingress, ledger: DynamoDbLedger) -> None:
    ingress.deps.ledger = DynamoDbLedger("no-such-table", client=boto3.client("dynamodb", region_name="us-east-1"))
    for text in ("status abc123def456", "history"):
        status, payload = ingress.send(text)
        assert status == 200
        assert "Command history unavailable" in message_text(payload)


def test_without_a_ledger_status_says_it_is_not_configured(ingress: Ingress, caplog: pytest.LogCaptureFixture) -> None:
    status, payload = ingress.send("status abc123def456")
    assert status == 200
    incident = incident_shown(message_text(payload), "SLASHOPS_LEDGER_TABLE")
    logged_detail(caplog, incident, "SLASHOPS_LEDGER_TABLE")
