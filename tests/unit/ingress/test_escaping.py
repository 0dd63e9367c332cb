"""Every ingress message shows what users typed escaped exactly once, with real mentions (issue #14, item 9).

Slack sends typed `<`, `>` and `&` as entities; the tokenizer undoes them, so `HOSTILE` reaches the parser
as typed, and every message must escape it once again where it is put in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.commands.catalog import CATALOG
from shared.ledger.dynamodb import DynamoDbLedger
from shared.slack.blocks import SlackMessage
from shared.slack.mrkdwn import code, escape, mention
from tests.support.events import at, command_requested, rejected
from tests.support.ingress import Ingress
from tests.support.ledger import moto_ledger
from tests.support.mrkdwn import HOSTILE, check_message, shows_once

TYPED = escape(HOSTILE)  # what Slack sends when HOSTILE is typed


def _body(ingress: Ingress, text: str, **form: str) -> str:
    status, payload = ingress.send(text, **form)
    assert status == 200
    return check_message(SlackMessage.model_validate(payload))


@pytest.mark.parametrize(
    "text",
    [
        f'"{TYPED}"',  # unknown command
        f'deploy --client "{TYPED}" --branch main',  # invalid identifier
        f'deploy --client acme --branch "{TYPED}"',  # branch outside the alphabet
        f'deploy --client acme --branch main "{TYPED}"',  # unrecognized argument
        f'deploy --client acme --branch main --env "{TYPED}"',  # invalid choice
        f'history --limit "{TYPED}"',  # not an integer
        f'help "{TYPED}"',  # help for an unknown command
    ],
    ids=["unknown", "identifier", "branch", "unrecognized", "choice", "integer", "help"],
)
def test_refusals_show_the_typed_text_escaped_once(ingress: Ingress, text: str) -> None:
    assert shows_once(_body(ingress, text))


def test_the_acknowledgement_shows_an_accepted_value_escaped_once(ingress: Ingress) -> None:
    body = _body(ingress, f'restore --db orders --from "{TYPED}" --confirm orders')
    assert "accepted as" in body and shows_once(body)
    [event] = ingress.publisher.events
    assert event.arguments["from"] == HOSTILE  # type: ignore[attr-defined]


def test_access_refusals_are_well_formed(ingress: Ingress) -> None:
    _body(ingress, "deploy --client acme --branch main")
    assert "No one is allowed to run `backups` yet." in _body(ingress, "backups --db orders")
    refused = _body(ingress, "deploy --client acme --branch main", user_id="U9", user_name="x")
    assert "You are not allowed to run `deploy`." in refused


@pytest.mark.parametrize("name", ["", *CATALOG.names()])
def test_help_writes_its_own_angle_brackets_as_entities(ingress: Ingress, name: str) -> None:
    body = _body(ingress, f"help {name}")
    if name in ("status", "cancel"):
        assert "&lt;id&gt;" in body


@pytest.fixture
def ledger(ingress: Ingress, monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDbLedger]:
    with moto_ledger(monkeypatch) as real:
        ingress.deps.ledger = real
        yield real


def test_status_and_history_show_values_once_and_event_text_as_written(
    ingress: Ingress, ledger: DynamoDbLedger
) -> None:
    arguments = {"db": "orders", "from": HOSTILE}
    ledger.record(command_requested("abc123def456", minute=-5, command="restore", arguments=arguments), now=at(-5))
    reason = f"Only {mention('UALICE')} may restore {code(HOSTILE)}."
    ledger.record(rejected(minute=-4).model_copy(update={"command": "restore", "reason": reason}), now=at(-4))

    status = _body(ingress, "status abc123def456")
    history = _body(ingress, "history")

    for body in (status, history):
        assert shows_once(body)
    assert "Only <@UALICE> may restore" in status and "Run by <@U0ABC>" in status and "in <#C0123>" in status
    assert "<@U0ABC>" in history
