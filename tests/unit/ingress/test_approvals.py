"""Two-person approvals through the real Chalice app on fakes: a held command is not published, the channel gets
the approval message (posted by the notifier from the `ApprovalRequested` the ingress publishes), only a listed
approver other than the requester decides, the first decision wins, and an approved command is published exactly
once, as the requester's, under the id it was held as."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from chalicelib.approving import APPROVE, DENY
from chalicelib.handler import handle_interaction_http
from services.notifier.approvals import post_request
from services.notifier.deps import NotifierDeps
from shared.events.models import ApprovalDecided, ApprovalRequested, CommandRequested
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.groups import MemoryGroupDirectory
from tests.support.fakes.ingress import MemoryApprovalStore, RecordingResponder, ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.names import MemoryNameDirectory
from tests.support.fakes.slack import RecordingSlack
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers, signed_request

RULES = json.dumps(
    [
        {"command": "deploy", "users": ["U0ABC", "U0BOB", "U0DAN"], "channels": ["C0123"]},
        {
            "command": "deploy",
            "users": ["U0ABC", "U0BOB"],
            "arguments": {"env": ["production"]},
            "approval": {"users": ["U0BOB", "carol"], "groups": ["S0SRE"], "expires": "30m"},
        },
        {"command": "restore", "users": ["U0ABC"], "approval": {"users": ["U0BOB"]}},
        {"command": "status"},
        {"command": "history"},
        {"command": "lock"},
    ]
)
PRODUCTION = "deploy --client acme --branch main --env production"
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ingress(clock: Clock) -> Iterator[Ingress]:
    counter = itertools.count(1)
    publisher = RecordingPublisher()
    deps = ingress_deps(
        config=StaticConfig.from_text(RULES),
        publisher=publisher,
        groups=MemoryGroupDirectory().define("S0SRE", "sre", ["U0ERIN"]),
        names=MemoryNameDirectory().user("U0CAROL", "carol"),
        new_id=lambda: f"new{next(counter):09d}",
        now=clock,
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def requested(ingress: Ingress) -> list[CommandRequested]:
    return [event for event in ingress.publisher.events if isinstance(event, CommandRequested)]


def decided(ingress: Ingress) -> list[ApprovalDecided]:
    return [event for event in ingress.publisher.events if isinstance(event, ApprovalDecided)]


def posted(ingress: Ingress) -> list[dict[str, Any]]:
    responder = ingress.deps.responder
    assert isinstance(responder, RecordingResponder)
    return [message.payload() for _, message in responder.posted]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """action id → value of every button in the message."""
    return {
        element["action_id"]: element["value"]
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    }


def press(
    ingress: Ingress, action: str, value: str, user_id: str, user_name: str = "", *, tick: str = "1"
) -> dict[str, Any]:
    """A click on the channel message's button; `tick` makes each click its own signed request."""
    payload = click_payload(action, value, user_id=user_id, user_name=user_name or user_id.lower())
    payload["container"]["is_ephemeral"] = False
    payload["actions"][0]["action_ts"] = f"1764400010.00{tick}"
    body = click_body(payload)
    status, answer = ingress.click(body, signed_headers(body))
    assert status == 200
    return answer


_ASKED = itertools.count(1)


def ask(ingress: Ingress, text: str = PRODUCTION, user_id: str = "U0ABC") -> dict[str, Any]:
    """A new signed request each time (its own trigger_id), as each typed command is: the approval message the
    channel then sees, if it was held (else the answer)."""
    held = len(approval_requests(ingress))
    status, answer = ingress.send(text, user_id=user_id, user_name="alice", trigger_id=f"trigger.{next(_ASKED)}")
    assert status == 200
    return channel_message(ingress) if len(approval_requests(ingress)) > held else answer


def approval_requests(ingress: Ingress) -> list[ApprovalRequested]:
    return [event for event in ingress.publisher.events if isinstance(event, ApprovalRequested)]


def channel_message(ingress: Ingress) -> dict[str, Any]:
    """The approval message the notifier posts in the channel from the newest `ApprovalRequested`."""
    slack, event = RecordingSlack(), approval_requests(ingress)[-1]
    deps = NotifierDeps(ledger=InMemoryLedger(), slack=slack, now=lambda: event.requested_at)
    assert post_request(event, deps) == "channel"
    [(_, message)] = slack.posts
    return message.payload()


def test_a_production_deploy_is_held_and_the_channel_is_asked(ingress: Ingress) -> None:
    _, private = ingress.send(PRODUCTION, user_id="U0ABC", user_name="alice")
    answer = channel_message(ingress)

    assert requested(ingress) == []  # nothing published
    assert private["response_type"] == "ephemeral" and buttons(private) == {}
    assert private["blocks"][0]["text"]["text"].startswith(
        ":raised_hand: Your `/ops deploy --client acme --branch main --env production` needs approval (access rule "
        "#2) by <@U0BOB>, `carol` or <!subteam^S0SRE>: nothing runs until it is approved."
    )
    assert "it expires at 2026-11-28 12:30 UTC (in 30m)" in message_text(private)
    assert "Held as `new000000001`" in message_text(private) and "direct message" in message_text(private)
    assert answer["response_type"] == "in_channel"
    shown = message_text(answer)
    assert "<@U0ABC> asks to run `/ops deploy --client acme --branch main --env production`" in shown
    assert "Access rule #2 requires approval by <@U0BOB>, `carol` or <!subteam^S0SRE>" in shown
    assert "expires at 2026-11-28 12:30 UTC (in 30m)" in shown
    assert buttons(answer) == {APPROVE: "new000000001", DENY: "new000000001"}
    [held] = [e for e in ingress.publisher.events if isinstance(e, ApprovalRequested)]
    assert held.command_id == "new000000001" and held.rule == 2 and held.actor.user_id == "U0ABC"
    assert held.approvers == ("U0BOB", "carol", "group:S0SRE")
    assert held.expires_at == START + timedelta(minutes=30)
    assert held.reply_to is not None and held.reply_to.channel_id == "C0123" and held.reply_to.user_id == "U0ABC"


def test_when_the_bus_refuses_the_request_the_answer_is_the_approval_message_itself(ingress: Ingress) -> None:
    """The bot will never post it: the slash command's own answer asks the channel, as it always did, and says
    that this message cannot show the expiry later."""
    publisher = ingress.publisher
    assert isinstance(publisher, RecordingPublisher)
    publisher.fail = True
    _, answer = ingress.send(PRODUCTION, user_id="U0ABC", user_name="alice")
    publisher.fail = False

    assert answer["response_type"] == "in_channel" and answer["replace_original"] is False
    assert "<@U0ABC> asks to run `/ops deploy" in message_text(answer)
    assert "cannot be updated later" in message_text(answer)
    assert buttons(answer) == {APPROVE: "new000000001", DENY: "new000000001"}
    assert press(ingress, APPROVE, "new000000001", "U0BOB", "bob")["replace_original"] is True
    assert [event.command_id for event in requested(ingress)] == ["new000000001"]


def test_a_staging_deploy_is_published_at_once(ingress: Ingress) -> None:
    ask(ingress, "deploy --client acme --branch main --env staging")
    [event] = requested(ingress)
    assert event.approval is None


def test_an_approval_publishes_the_requesters_command_once_under_the_held_id(ingress: Ingress, clock: Clock) -> None:
    approval_id = buttons(ask(ingress))[APPROVE]
    clock.now = START + timedelta(minutes=5)

    answer = press(ingress, APPROVE, approval_id, "U0BOB", "bob")

    [event] = requested(ingress)
    assert event.command_id == approval_id and event.command == "deploy"
    assert event.actor.user_id == "U0ABC" and event.actor.user_name == "alice"
    assert event.reply_to.response_url == "https://hooks.slack.com/commands/T0001/1234/abcd"  # the requester's
    assert event.requested_at == START  # its response_url's 30 minutes started when it was typed
    assert event.approval is not None and event.approval.approver_id == "U0BOB" and event.approval.rule == 2
    assert answer["replace_original"] is True and answer["response_type"] == "in_channel"
    assert "Approved by <@U0BOB> at 2026-11-28 12:05 UTC" in message_text(answer)
    assert f"is queued as `{approval_id}`" in message_text(answer) and buttons(answer) == {}
    assert posted(ingress)[-1] == answer  # the channel message, updated in place through the click's response_url
    [decision] = decided(ingress)
    assert decision.decision == "approved" and decision.decided_by == "U0BOB"


def test_a_click_naming_itself_an_approver_is_not_that_approver(ingress: Ingress) -> None:
    """Issue 19.1: a click's `username` is the sender's to choose; the approver is who Slack says `carol` is."""
    approval_id = buttons(ask(ingress))[APPROVE]
    for tick, name in enumerate(("U0APPROVER", "U0BOB", "carol"), start=1):
        answer = press(ingress, APPROVE, approval_id, "U0MALLORY", name, tick=str(tick))
        assert "You cannot approve this" in message_text(answer)
    assert requested(ingress) == []
    ingress.deps.names = MemoryNameDirectory(unavailable=True)
    answer = press(ingress, APPROVE, approval_id, "U0CAROL", "carol", tick="9")
    assert "You cannot approve this" in message_text(answer) and "could not be asked" in message_text(answer)
    assert requested(ingress) == []  # Slack cannot say who `carol` is: the name admits no one


def test_an_approver_named_by_user_name_or_group_may_approve(ingress: Ingress) -> None:
    first = buttons(ask(ingress))[APPROVE]
    press(ingress, APPROVE, first, "U0CAROL", "renamed")  # `carol` by user name, as Slack resolves it
    second = buttons(ask(ingress))[APPROVE]
    press(ingress, APPROVE, second, "U0ERIN", "erin", tick="2")  # in @sre (S0SRE)
    assert [event.approval.approver_id for event in requested(ingress) if event.approval] == ["U0CAROL", "U0ERIN"]


def test_a_denial_runs_nothing_and_updates_the_message(ingress: Ingress) -> None:
    approval_id = buttons(ask(ingress))[DENY]

    answer = press(ingress, DENY, approval_id, "U0BOB", "bob")

    assert requested(ingress) == []
    assert "Denied by <@U0BOB>" in message_text(answer) and "was not run" in message_text(answer)
    assert "running it again asks for a new approval" in message_text(answer)  # what the requester can do next
    assert answer["replace_original"] is True and buttons(answer) == {}
    [decision] = decided(ingress)
    assert decision.decision == "denied"
    late = press(ingress, APPROVE, approval_id, "U0BOB", "bob", tick="2")
    assert requested(ingress) == [] and "already denied by <@U0BOB>" in message_text(late)


def test_the_requester_cannot_approve_their_own_request(ingress: Ingress) -> None:
    """U0ABC's request; U0ABC would be an approver under another rule's list — still refused."""
    ingress.deps.config = StaticConfig.from_text(
        json.dumps([{"command": "deploy", "users": ["U0ABC", "U0BOB"], "approval": {"users": ["U0ABC", "U0BOB"]}}])
    )
    approval_id = buttons(ask(ingress))[APPROVE]

    answer = press(ingress, APPROVE, approval_id, "U0ABC", "alice")

    assert requested(ingress) == [] and decided(ingress) == []
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "You asked for this, so you cannot approve it yourself: <@U0ABC> or <@U0BOB> can." in message_text(answer)
    press(ingress, APPROVE, approval_id, "U0BOB", "bob", tick="2")  # still pending: another approver may
    assert len(requested(ingress)) == 1


def test_someone_not_listed_gets_a_private_refusal_naming_who_can(ingress: Ingress) -> None:
    approval_id = buttons(ask(ingress))[APPROVE]

    answer = press(ingress, APPROVE, approval_id, "U0DAN", "dan")

    assert requested(ingress) == [] and decided(ingress) == []
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "You cannot approve this; <@U0BOB>, `carol` or <!subteam^S0SRE> can." in message_text(answer)


def test_after_the_expiry_the_click_says_so_and_nothing_runs(ingress: Ingress, clock: Clock) -> None:
    approval_id = buttons(ask(ingress))[APPROVE]
    clock.now = START + timedelta(minutes=30)

    answer = press(ingress, APPROVE, approval_id, "U0BOB", "bob")

    assert requested(ingress) == []
    assert "expired at 2026-11-28 12:30 UTC without a decision: nothing was run" in message_text(answer)
    assert answer["replace_original"] is True and buttons(answer) == {}
    [decision] = decided(ingress)
    assert decision.decision == "expired" and decision.decided_by == "U0BOB"
    again = press(ingress, APPROVE, approval_id, "U0CAROL", "carol", tick="2")
    assert requested(ingress) == [] and "expired" in message_text(again) and len(decided(ingress)) == 1


def test_a_double_click_publishes_once(ingress: Ingress) -> None:
    approval_id = buttons(ask(ingress))[APPROVE]

    press(ingress, APPROVE, approval_id, "U0BOB", "bob", tick="1")
    second = press(ingress, APPROVE, approval_id, "U0BOB", "bob", tick="2")

    assert len(requested(ingress)) == 1 and len(decided(ingress)) == 1
    assert second["replace_original"] is False and "already approved by <@U0BOB>" in message_text(second)


def test_two_approvers_at_once_publish_once(ingress: Ingress) -> None:
    """Straight at the HTTP handler from two threads, on one set of dependencies."""
    approval_id = buttons(ask(ingress))[APPROVE]
    barrier = threading.Barrier(2)
    answers: list[str] = []

    def click(user_id: str, name: str, tick: str) -> None:
        payload = click_payload(APPROVE, approval_id, user_id=user_id, user_name=name)
        payload["actions"][0]["action_ts"] = f"1764400010.00{tick}"
        body = click_body(payload)
        headers = signed_headers(body)
        barrier.wait()
        answer = handle_interaction_http(
            body, headers, signing_secret=lambda: SIGNING_SECRET, deps=lambda: ingress.deps
        )
        answers.append(answer.body)

    threads = [
        threading.Thread(target=click, args=("U0BOB", "bob", "1")),
        threading.Thread(target=click, args=("U0CAROL", "carol", "2")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(requested(ingress)) == 1 and len(decided(ingress)) == 1
    assert sum("Approved by" in answer for answer in answers) == 1
    assert sum("already approved by" in answer for answer in answers) == 1


def test_a_replayed_request_is_not_held_twice(ingress: Ingress) -> None:
    body, headers = signed_request(PRODUCTION)
    ingress.post(body, headers)
    _, again = ingress.post(body, headers)

    assert "already received as `new000000001`" in message_text(again) and buttons(again) == {}
    [held] = [event for event in ingress.publisher.events if isinstance(event, ApprovalRequested)]
    assert held.command_id == "new000000001"  # the replay's own (unshown) approval is never announced


def test_nothing_is_held_or_run_when_the_approval_table_does_not_answer(ingress: Ingress) -> None:
    ingress.deps.approvals = MemoryApprovalStore(unavailable=True)
    answer = ask(ingress)

    assert requested(ingress) == [] and buttons(answer) == {}
    assert "could not be recorded, so nothing was started and no one was asked" in message_text(answer)


def test_an_unreadable_or_unknown_approval_button_runs_nothing(ingress: Ingress) -> None:
    ask(ingress)
    for value in ("", "x" * 70, "a b"):
        answer = press(ingress, APPROVE, value, "U0BOB", "bob")
        assert answer["replace_original"] is False and "nothing was run" in message_text(answer)
    unknown = press(ingress, APPROVE, "new999999999", "U0BOB", "bob")
    assert unknown["replace_original"] is False
    assert "There is no command `new999999999` that you can see." in message_text(unknown)  # as `status` says
    assert requested(ingress) == []


def press_elsewhere(ingress: Ingress, action: str, value: str, user_id: str, tick: str = "1") -> dict[str, Any]:
    """A click naming a request from another channel's message (a button Slack never showed there)."""
    payload = click_payload(action, value, user_id=user_id, user_name=user_id.lower(), channel_id="C0OTHER")
    payload["actions"][0]["action_ts"] = f"1764400010.00{tick}"
    body = click_body(payload)
    status, answer = ingress.click(body, signed_headers(body))
    assert status == 200
    return answer


@pytest.mark.parametrize("action", [APPROVE, DENY])
def test_a_click_naming_a_request_the_clicker_may_not_see_is_answered_as_status_answers(
    ingress: Ingress, clock: Clock, action: str
) -> None:
    """Issue 19, finding 4: outside the request's channel, someone `status <id>` would not show it to learns nothing
    from a click — not its state, its text or its approvers — even once it has expired, and nothing changes."""
    ledger = InMemoryLedger()
    ingress.deps.ledger = ledger
    approval_id = buttons(ask(ingress))[APPROVE]
    for event in ingress.publisher.events:  # as the notifier records it
        if isinstance(event, ApprovalRequested):
            ledger.record(event, now=START)
    for minute in (0, 31):  # pending, then past its expiry
        clock.now = START + timedelta(minutes=minute)
        answer = press_elsewhere(ingress, action, approval_id, "U0EVE", tick=str(minute))
        _, typed = ingress.send(f"status {approval_id}", user_id="U0EVE", trigger_id=f"eve.{minute}")
        assert (answer["text"], answer["blocks"]) == (typed["text"], typed["blocks"])
        assert "/ops deploy" not in json.dumps(answer) and answer["replace_original"] is False
    assert requested(ingress) == [] and decided(ingress) == []


def test_someone_who_may_see_the_request_is_answered_about_it_from_anywhere(ingress: Ingress) -> None:
    """Dan may run deploys (rule #1), so `status` shows him Alice's; a click elsewhere is answered as usual."""
    approval_id = buttons(ask(ingress))[APPROVE]
    answer = press_elsewhere(ingress, APPROVE, approval_id, "U0DAN")
    assert "You cannot approve this" in message_text(answer) and requested(ingress) == []


def test_a_confirmed_restore_is_held_for_approval_in_a_new_channel_message(ingress: Ingress) -> None:
    _, prompt = ingress.send("restore --db orders --from b1", user_id="U0ABC")
    confirm = press(ingress, "restore.confirm", buttons(prompt)["restore.confirm"], "U0ABC", "alice")

    assert requested(ingress) == []
    assert confirm["response_type"] == "ephemeral" and confirm["replace_original"] is False  # to the requester
    assert "Your `/ops restore --db orders --from b1 --confirm orders` needs approval" in message_text(confirm)
    channel = channel_message(ingress)
    assert channel["response_type"] == "in_channel"
    assert "`/ops restore --db orders --from b1 --confirm orders`" in message_text(channel)
    press(ingress, APPROVE, buttons(channel)[APPROVE], "U0BOB", "bob", tick="2")
    [event] = requested(ingress)
    assert event.command == "restore" and event.arguments["confirm"] == "orders"


def test_status_and_history_follow_the_approval(ingress: Ingress, clock: Clock) -> None:
    """The ledger is fed what the ingress published, as the notifier records it."""
    ledger = InMemoryLedger()
    ingress.deps.ledger = ledger

    def sync() -> None:
        for event in ingress.publisher.events:
            if isinstance(event, ApprovalRequested | ApprovalDecided | CommandRequested):
                ledger.record(event, now=clock.now)

    approval_id = buttons(ask(ingress))[APPROVE]
    sync()
    _, waiting = ingress.send(f"status {approval_id}", user_id="U0ABC")
    assert "*awaiting approval*" in message_text(waiting) and "Asked by <@U0ABC>" in message_text(waiting)
    assert (
        "waiting for approval by <@U0BOB>, `carol` or <!subteam^S0SRE> (access rule #2), expires 2026-11-28 12:30 UTC"
        in message_text(waiting)
    )

    press(ingress, APPROVE, approval_id, "U0BOB", "bob")
    sync()
    _, approved = ingress.send(f"status {approval_id}", user_id="U0ABC")
    assert "*requested (approved by <@U0BOB>)*" in message_text(approved)
    assert "approved by <@U0BOB> at 2026-11-28 12:00 UTC (access rule #2)" in message_text(approved)

    denied_id = buttons(ask(ingress))[DENY]
    press(ingress, DENY, denied_id, "U0BOB", "bob", tick="2")
    lapsed_id = buttons(ask(ingress))[APPROVE]
    sync()
    clock.now = START + timedelta(hours=1)
    _, history = ingress.send("history", user_id="U0ABC")
    shown = message_text(history)
    assert f"`{denied_id}` `deploy`" in shown and "denied by <@U0BOB>" in shown
    assert f"`{lapsed_id}`" in shown and "expired (no decision)" in shown
    _, lapsed = ingress.send(f"status {lapsed_id}", user_id="U0ABC")
    assert "expired at 2026-11-28 12:30 UTC: no one decided in time" in message_text(lapsed)


def test_whoami_says_which_requests_are_held_for_approval(ingress: Ingress) -> None:
    _, answer = ingress.send("whoami", user_id="U0ABC")
    assert "`deploy` — allowed (rule #1); held for approval (rule #2 with `--env production`)" in message_text(answer)


def test_an_approval_that_starts_nothing_is_reopened_and_may_be_given_again(ingress: Ingress) -> None:
    """Approved while the bus refuses: not queued, nothing ran; the approval is pending again, nothing is recorded
    as decided, and the next approval (the bus back) runs it once."""
    approval_id = buttons(ask(ingress))[APPROVE]
    publisher = ingress.publisher
    assert isinstance(publisher, RecordingPublisher)
    publisher.fail = True

    answer = press(ingress, APPROVE, approval_id, "U0BOB", "bob")

    assert requested(ingress) == [] and decided(ingress) == []
    assert answer["replace_original"] is False  # the channel message keeps its buttons
    shown = message_text(answer)
    assert "Approved by <@U0BOB>, but <@U0ABC>'s `/ops deploy" in shown and "was not started" in shown
    assert "could not be handed to its service, so nothing was started" in shown
    assert "still waits for approval until 2026-11-28 12:30 UTC: approve it again" in shown
    publisher.fail = False
    press(ingress, APPROVE, approval_id, "U0BOB", "bob", tick="2")
    [event] = requested(ingress)
    assert event.command_id == approval_id and [d.decision for d in decided(ingress)] == ["approved"]


def test_an_approval_into_a_target_locked_since_runs_nothing(ingress: Ingress) -> None:
    approval_id = buttons(ask(ingress))[APPROVE]
    ingress.send("lock --client acme --env production --reason freeze", user_id="U0DAN", trigger_id="lock.1")

    answer = press(ingress, APPROVE, approval_id, "U0BOB", "bob")

    assert [event.command for event in requested(ingress)] == ["lock"]  # the lock, for the ledger; no deploy
    assert "was not started" in message_text(answer) and "is locked by <@U0DAN>" in message_text(answer)


def test_names_from_slack_are_escaped_once_and_never_become_mentions(ingress: Ingress) -> None:
    status, _ = ingress.send(PRODUCTION, user_id="U0ABC", user_name="<!channel> & co", trigger_id="esc.1")
    assert status == 200
    answer = channel_message(ingress)
    assert answer["text"].startswith("Approval needed: <@U0ABC> asks to run `/ops deploy")  # the ID, never a name
    assert "&lt;!channel&gt;" not in json.dumps(answer) and "<!channel>" not in json.dumps(answer)
    denied = press(ingress, DENY, buttons(answer)[DENY], "U0BOB", "<!here>")
    assert denied["text"] == "Denied by &lt;!here&gt;" and "<!here>" not in json.dumps(denied)


def test_help_says_which_requests_are_held_for_approval(ingress: Ingress) -> None:
    _, overview = ingress.send("help", user_id="U0ABC")
    assert "_(you: held for approval (rule #2 with `--env production`))_" in message_text(overview)
    _, deploy = ingress.send("help deploy", user_id="U0ABC", trigger_id="help.2")
    assert (
        "You may run this in this channel (rule #1). Some requests are held for approval (rule #2 with "
        "`--env production`)." in message_text(deploy)
    )
    _, restore = ingress.send("help restore", user_id="U0ABC", trigger_id="help.3")
    assert "Every request is held for approval (rule #3)." in message_text(restore)  # issue 21.14: all, not some


def test_a_request_kept_without_its_response_url_still_runs_once_approved(ingress: Ingress) -> None:
    """make run's saved state keeps no response_url (tools/local/state.py): the approved command is published with
    none, and the notifier answers it through the bot (tests/unit/services/notifier/test_consumer.py)."""
    approval_id = buttons(ask(ingress))[APPROVE]
    store = ingress.deps.approvals
    assert isinstance(store, MemoryApprovalStore)
    store.approvals[approval_id] = store.approvals[approval_id].model_copy(update={"response_url": ""})

    press(ingress, APPROVE, approval_id, "U0BOB", "bob")

    [event] = requested(ingress)
    assert event.command_id == approval_id and event.reply_to.response_url == ""
