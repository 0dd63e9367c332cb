"""Forms (issue 23.1): `/ops deploy` and `/ops restore` typed alone open a modal with what the rules let the caller
choose; its submission runs the typed command's pipeline, through the real Chalice app with a memory `ViewsPort`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from chalicelib.forms import OPEN_SECONDS
from shared.events.models import CommandRequested
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.backups import MemoryBackupCatalog
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.views import MemoryViews
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, signed_headers

CONFIG = """\
access:
  - {command: deploy, users: [U0ABC]}
  - {command: deploy, users: [U0DEV], arguments: {env: [staging], client: [acme]}}
  - {command: deploy, users: [U0GUEST], arguments: {client: [initech]}}
  - {command: restore, users: [U0ABC]}
  - {command: restore, users: [U0DEV], arguments: {db: [orders_staging]}}
  - {command: deploy, users: [U0REL], arguments: {branch: ["release/*"], env: [production]}}
  - {command: deploy, users: [U0REL], arguments: {client: [globex], branch: ["release/9*"]}, effect: deny}
  - {command: restore, users: [U0REL], arguments: {from: ["orders-2*"]}}
deploy:
  clients: [acme, globex]
backup:
  databases: [orders, users, orders_staging]
  restore_into: {orders: [orders_staging]}
"""
TRIGGER = "13345224609.738474920.8088930838d88f008e0"


@pytest.fixture
def views() -> MemoryViews:
    return MemoryViews()


@pytest.fixture
def ingress(views: MemoryViews) -> Iterator[Ingress]:
    counter = itertools.count(1)
    publisher = RecordingPublisher()
    deps = ingress_deps(
        publisher=publisher,
        config=StaticConfig.from_text(CONFIG),
        views=views,
        new_id=lambda: f"new{next(counter):09d}",
        now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def requested(ingress: Ingress) -> list[CommandRequested]:
    return [event for event in ingress.publisher.events if isinstance(event, CommandRequested)]


def options(view: dict[str, Any], block_id: str) -> list[str]:
    block = next(block for block in view["blocks"] if block.get("block_id") == block_id)
    return [option["value"] for option in block["element"].get("options", [])]


def open_form(ingress: Ingress, views: MemoryViews, command: str = "deploy", **form: str) -> dict[str, Any]:
    status, answer = ingress.send(command, **form)
    assert status == 200 and answer == {}, answer  # an empty answer: Slack shows the form, nothing else
    return views.opened[-1][1]


def submission(view: dict[str, Any], values: dict[str, str], *, user_id: str = "U0ABC") -> dict[str, Any]:
    """The `view_submission` Slack posts for `view` filled with `values` (a select's chosen option, or text)."""
    state: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element, value = block["element"], values.get(block["block_id"])
        if element["type"] == "static_select":
            chosen = {"selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}
            state[block["block_id"]] = {element["action_id"]: {"type": "static_select", **(chosen if value else {})}}
        else:
            state[block["block_id"]] = {element["action_id"]: {"type": "plain_text_input", "value": value}}
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": user_id, "username": "example.user", "name": "example.user", "team_id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "13345224609.738474920.submitted",
        "view": {
            "id": "V0FORM0001",
            "hash": "1764400000.abcdef",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": state},
        },
    }


def submit(ingress: Ingress, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = click_body(payload)
    return ingress.click(body, signed_headers(body))


# --- opening ------------------------------------------------------------------------------------------------------


def test_deploy_alone_opens_a_form_with_the_callers_choices_within_the_budget(
    ingress: Ingress, views: MemoryViews
) -> None:
    view = open_form(ingress, views)

    [(trigger, _)] = views.opened
    assert trigger == TRIGGER  # the command's own trigger_id, from the ingress
    assert 0 < views.deadlines[0] <= OPEN_SECONDS  # at most 1.5 s of Slack's 3 for views.open
    assert view["type"] == "modal" and view["callback_id"] == "ops-form:deploy" and view["notify_on_close"] is True
    assert options(view, "client") == ["acme", "globex"]
    assert options(view, "env") == ["staging", "production"]
    branch = next(block for block in view["blocks"] if block.get("block_id") == "branch")
    assert branch["element"]["initial_value"] == "main"
    assert json.loads(view["private_metadata"]) == {"channel_id": "C0123", "channel_name": "ops"}
    assert requested(ingress) == []


def test_the_selects_offer_only_what_the_rules_let_the_caller_use(ingress: Ingress, views: MemoryViews) -> None:
    view = open_form(ingress, views, user_id="U0DEV")

    assert options(view, "client") == ["acme"]
    assert options(view, "env") == ["staging"]


def test_conditions_on_what_is_typed_are_left_to_the_submission(ingress: Ingress, views: MemoryViews) -> None:
    """U0REL may deploy release branches to production, but no `release/9…` of globex; may restore `orders-2…`."""
    view = open_form(ingress, views, user_id="U0REL")
    assert options(view, "client") == ["acme", "globex"] and options(view, "env") == ["production"]
    assert options(open_form(ingress, views, "restore", user_id="U0REL"), "db") == ["orders", "users", "orders_staging"]

    submit(ingress, submission(view, {"client": "acme", "env": "production", "branch": "main"}, user_id="U0REL"))
    submit(ingress, submission(view, {"client": "globex", "env": "production", "branch": "release/9"}, user_id="U0REL"))
    assert requested(ingress) == [] and all("Not allowed" in message_text(m) for _, _, m in views.posted)
    submit(ingress, submission(view, {"client": "globex", "env": "production", "branch": "release/2"}, user_id="U0REL"))
    assert [event.arguments["branch"] for event in requested(ingress)] == ["release/2"]


def test_no_form_for_a_caller_the_rules_refuse_the_command_the_typed_text_answers(
    ingress: Ingress, views: MemoryViews
) -> None:
    status, answer = ingress.send("deploy", user_id="U0NOBODY")
    _, typed = ingress.send("deploy", user_id="U0NOBODY", trigger_id="")

    assert status == 200 and views.opened == []
    assert "Not allowed" in message_text(answer) and message_text(answer) == message_text(typed)


def test_no_form_when_the_rules_admit_the_caller_to_no_configured_client(ingress: Ingress, views: MemoryViews) -> None:
    status, answer = ingress.send("deploy", user_id="U0GUEST")  # admitted for initech, which is not configured

    assert status == 200 and views.opened == []
    assert "--client" in message_text(answer)  # the usage error `/ops deploy` typed alone gets


def test_arguments_typed_run_the_command_without_a_form(ingress: Ingress, views: MemoryViews) -> None:
    ingress.send("deploy --client acme --branch main")

    assert views.opened == [] and len(requested(ingress)) == 1


def test_without_slacks_web_api_the_typed_text_answers(ingress: Ingress) -> None:
    ingress.deps.views = None
    _, answer = ingress.send("deploy")

    assert "Invalid arguments" in message_text(answer)


def test_a_form_slack_does_not_open_in_time_says_what_to_type_instead(ingress: Ingress, views: MemoryViews) -> None:
    views.unavailable = "Slack (views.open) did not answer within the answer budget"
    status, answer = ingress.send("deploy")

    shown = message_text(answer)
    assert (
        status == 200
        and "did not open the deploy form (it refused, or did not answer in time), so nothing was run" in shown
    )
    assert "/ops deploy --client <client> --branch <branch> [--env <env>]" in shown
    assert requested(ingress) == []


def test_restore_alone_offers_the_databases_the_rules_allow(ingress: Ingress, views: MemoryViews) -> None:
    assert options(open_form(ingress, views, "restore"), "db") == ["orders", "users", "orders_staging"]
    assert options(open_form(ingress, views, "restore", user_id="U0DEV"), "db") == ["orders_staging"]
    backup = next(b for b in views.opened[-1][1]["blocks"] if b.get("block_id") == "from")
    assert backup["element"]["type"] == "plain_text_input"  # typed: the ingress cannot list backups in time


# --- submitting ---------------------------------------------------------------------------------------------------


def test_a_submission_publishes_exactly_what_the_typed_command_would(ingress: Ingress, views: MemoryViews) -> None:
    view = open_form(ingress, views)
    status, answer = submit(ingress, submission(view, {"client": "acme", "env": "production", "branch": "main"}))
    ingress.send("deploy --client acme --branch main --env production")

    assert status == 200 and answer == {}  # the form closes
    formed, typed = requested(ingress)
    assert formed.arguments == typed.arguments == {"client": "acme", "branch": "main", "env": "production"}
    assert formed.text == typed.text == "deploy --client acme --branch main --env production"
    assert formed.actor.user_id == typed.actor.user_id == "U0ABC"
    assert formed.place.channel_id == "C0123"  # where the form was opened (private_metadata)
    assert formed.reply_to is not None and formed.reply_to.response_url == ""  # the notifier posts with the bot
    [(channel, user, message)] = views.posted
    assert (channel, user) == ("C0123", "U0ABC")
    assert f"accepted as `{formed.command_id}`" in message_text(message)


def test_a_double_submission_publishes_once(ingress: Ingress, views: MemoryViews) -> None:
    payload = submission(open_form(ingress, views), {"client": "acme", "env": "staging", "branch": "main"})
    submit(ingress, payload)
    payload["trigger_id"] = "another"
    submit(ingress, payload)

    assert len(requested(ingress)) == 1
    assert "was sent as `new000000001`" in message_text(views.posted[-1][2])


def test_an_invalid_field_is_answered_under_it_and_nothing_runs(ingress: Ingress, views: MemoryViews) -> None:
    view = open_form(ingress, views)
    status, answer = submit(ingress, submission(view, {"client": "acme", "env": "staging", "branch": "main..x"}))

    assert status == 200 and answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["branch"] and "--branch" in answer["errors"]["branch"]
    assert requested(ingress) == [] and views.posted == []


@pytest.mark.parametrize(
    ("values", "field"),
    [({"client": "", "env": "staging", "branch": "main"}, "client"), ({"client": "acme", "branch": "--env"}, "branch")],
)
def test_an_empty_or_option_like_field_is_answered_under_it(
    ingress: Ingress, views: MemoryViews, values: dict[str, str], field: str
) -> None:
    _, answer = submit(ingress, submission(open_form(ingress, views), values))

    assert answer["response_action"] == "errors" and field in answer["errors"]
    assert requested(ingress) == []


def test_a_submission_the_rules_refuse_is_refused_and_said_in_the_channel(ingress: Ingress, views: MemoryViews) -> None:
    view = open_form(ingress, views, user_id="U0DEV")
    status, answer = submit(
        ingress, submission(view, {"client": "acme", "env": "production", "branch": "main"}, user_id="U0DEV")
    )

    assert status == 200 and answer == {}
    assert requested(ingress) == []
    [(channel, user, message)] = views.posted
    assert (channel, user) == ("C0123", "U0DEV") and "Not allowed" in message_text(message)


def test_a_form_submitted_by_someone_the_rules_refuse_altogether_runs_nothing(
    ingress: Ingress, views: MemoryViews
) -> None:
    view = open_form(ingress, views)
    submit(ingress, submission(view, {"client": "acme", "env": "staging", "branch": "main"}, user_id="U0NOBODY"))

    assert requested(ingress) == [] and "Not allowed" in message_text(views.posted[0][2])


def test_an_answer_slack_will_not_post_is_shown_in_the_form(ingress: Ingress, views: MemoryViews) -> None:
    view = open_form(ingress, views)
    views.posting_fails = "not_in_channel"
    _, answer = submit(ingress, submission(view, {"client": "acme", "env": "staging", "branch": "main"}))

    assert answer["response_action"] == "update"
    assert "accepted as `new000000001`" in json.dumps(answer["view"])
    assert len(requested(ingress)) == 1


def test_a_restore_submitted_asks_for_confirmation_in_the_channel(ingress: Ingress, views: MemoryViews) -> None:
    view = open_form(ingress, views, "restore")
    _, answer = submit(ingress, submission(view, {"db": "orders", "from": "orders-20261128T101500Z-3f9c2a"}))

    assert answer == {} and requested(ingress) == []  # a restore is confirmed first, as typed
    [(_, _, prompt)] = views.posted
    assert any(block["type"] == "actions" for block in prompt["blocks"])  # the Confirm button


def test_a_form_without_its_channel_runs_nothing(ingress: Ingress, views: MemoryViews) -> None:
    payload = submission(open_form(ingress, views), {"client": "acme", "env": "staging", "branch": "main"})
    payload["view"]["private_metadata"] = '{"channel_id": "not a channel"}'
    _, answer = submit(ingress, payload)

    assert answer["response_action"] == "update" and "nothing was run" in json.dumps(answer["view"])
    assert requested(ingress) == []


def test_cancelling_the_form_runs_nothing(ingress: Ingress, views: MemoryViews) -> None:
    view = open_form(ingress, views)
    closed = submission(view, {"client": "acme", "env": "staging", "branch": "main"})
    closed["type"] = "view_closed"
    status, answer = submit(ingress, closed)

    assert status == 200 and answer == {}
    assert requested(ingress) == [] and views.posted == []


def test_a_submission_a_rule_holds_is_held_for_approval_as_typed(views: MemoryViews) -> None:
    held_config = CONFIG.replace(
        "  - {command: deploy, users: [U0ABC]}\n",
        "  - {command: deploy, users: [U0ABC], approval: {users: [U0LEAD]}}\n",
    )
    publisher = RecordingPublisher()
    deps = ingress_deps(publisher=publisher, config=StaticConfig.from_text(held_config), views=views)
    with Client(create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)) as client:
        ingress = Ingress(client=client, publisher=publisher, deps=deps)
        view = open_form(ingress, views)
        _, answer = submit(ingress, submission(view, {"client": "acme", "env": "production", "branch": "main"}))

    assert answer == {} and requested(ingress) == []
    [(channel, user, message)] = views.posted
    assert (channel, user) == ("C0123", "U0ABC")
    assert "needs approval (access rule #1) by <@U0LEAD>: nothing runs until it is approved" in message_text(message)
    assert deps.approvals is not None and len(deps.approvals.approvals) == 1  # type: ignore[attr-defined]


def test_without_a_client_list_the_client_is_typed_and_the_environments_still_follow_the_rules(
    views: MemoryViews,
) -> None:
    unlisted = CONFIG.replace("deploy:\n  clients: [acme, globex]\n", "")
    deps = ingress_deps(config=StaticConfig.from_text(unlisted), views=views)
    with Client(create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)) as client:
        ingress = Ingress(client=client, publisher=RecordingPublisher(), deps=deps)
        view = open_form(ingress, views, user_id="U0DEV")

    client_block = next(block for block in view["blocks"] if block.get("block_id") == "client")
    assert client_block["element"]["type"] == "plain_text_input"
    assert options(view, "env") == ["staging"]


def test_a_backup_that_does_not_exist_is_answered_under_the_backup_field(ingress: Ingress, views: MemoryViews) -> None:
    ingress.deps.backups = MemoryBackupCatalog()  # holds no backup
    view = open_form(ingress, views, "restore")
    _, answer = submit(ingress, submission(view, {"db": "orders", "from": "orders-20261128T101500Z-3f9c2a"}))

    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["from"]
    assert "orders has no backup orders-20261128T101500Z-3f9c2a" in answer["errors"]["from"]
    assert views.posted == []
