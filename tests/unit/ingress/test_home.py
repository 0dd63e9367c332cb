"""The Home tab through the real Chalice app on fakes: what a user sees (approvals they may decide, their running and
recent commands, locks, freezes, backups), what they do not (their own request to approve, others' commands), and
Approve from the Home: the same decision as in the channel, the command run once, the Home republished."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from chalicelib.approving import APPROVE, DENY
from shared.deadline import Deadline
from shared.events.models import CommandRequested
from shared.locks.models import Lock
from shared.slack.actions import CANCEL
from tests.support.events import command_requested, progress, succeeded
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.backups import MemoryBackupCatalog
from tests.support.fakes.home import MemoryHome
from tests.support.fakes.ingress import MemoryApprovalStore, RecordingResponder, ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.locks import MemoryLockStore
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, signed_headers
from tests.support.slack_events import event_body, home_click_payload, home_opened, signed_event_headers

ALICE, BOB, CAROL, DAN = "U0ABC", "U0BOB", "U0CAROL", "U0DAN"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = {
    "access": [
        {"command": "deploy", "users": [ALICE, BOB], "channels": ["C0123"]},
        {
            "command": "deploy",
            "users": [ALICE],
            "arguments": {"env": ["production"]},
            "approval": {"users": [BOB, CAROL]},
        },
        {"command": "locks", "users": [ALICE, BOB]},
        {"command": "status"},
        {"command": "backup", "users": [BOB], "arguments": {"db": ["orders"]}},
    ],
    "deploy": {"clients": ["acme"], "locks": {"default": "2h", "max": "1d"}},
    "backup": {"databases": ["orders", "billing"]},
}
PRODUCTION = "deploy --client acme --branch main --env production"


@pytest.fixture
def ingress() -> Iterator[Ingress]:
    counter = itertools.count(1)
    publisher = RecordingPublisher()
    ledger = InMemoryLedger()
    deps = ingress_deps(
        config=StaticConfig.from_text(json.dumps(CONFIG)),
        publisher=publisher,
        ledger=ledger,
        locks=MemoryLockStore(),
        approvals=MemoryApprovalStore(),
        backups=MemoryBackupCatalog().add("orders", "orders-20261128T101500Z-3f9c2a"),
        home=MemoryHome(),
        new_id=lambda: f"new{next(counter):09d}",
        now=lambda: NOW,
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


_EVENTS = itertools.count(1)


def open_home(ingress: Ingress, user_id: str) -> dict[str, Any]:
    body = event_body(home_opened(user_id, event_id=f"Ev0OPEN{next(_EVENTS):04d}"))
    response = ingress.client.http.post("/slack/events", headers=signed_event_headers(body), body=body)
    assert response.status_code == 200
    return home_of(ingress).latest(user_id)


def home_of(ingress: Ingress) -> MemoryHome:
    assert isinstance(ingress.deps.home, MemoryHome)
    return ingress.deps.home


def shown(view: dict[str, Any]) -> str:
    return message_text({"blocks": view["blocks"]})


def buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (element["action_id"], element["value"])
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def hold_production_deploy(ingress: Ingress) -> str:
    status, answer = ingress.send(PRODUCTION, user_id=ALICE)
    assert status == 200, answer
    approvals = ingress.deps.approvals
    assert isinstance(approvals, MemoryApprovalStore)
    (approval_id,) = approvals.approvals
    return approval_id


def bob_runs_a_deploy(ingress: Ingress) -> None:
    ledger = ingress.deps.ledger
    assert isinstance(ledger, InMemoryLedger)
    ledger.record(command_requested("bobrunning01", user=BOB, user_name="bob", minute=-10), now=NOW)
    ledger.record(progress("building", command_id="bobrunning01", minute=-9), now=NOW)
    ledger.record(command_requested("bobfinished1", user=BOB, user_name="bob", minute=-60), now=NOW)
    ledger.record(succeeded("bobfinished1", minute=-50), now=NOW)
    ledger.record(command_requested("alicecmd0001", user=ALICE, minute=-5), now=NOW)


def lock_acme(ingress: Ingress, reason: str = "db migration <b>&") -> None:
    locks = ingress.deps.locks
    assert locks is not None
    now = int(NOW.timestamp())
    lock = Lock(client="acme", env="staging", holder=ALICE, reason=reason, locked_at=now, expires_at=now + 3600)
    assert locks.acquire(lock, now=now, deadline=Deadline.after(1)) is None


def test_the_home_shows_an_approval_a_running_command_a_lock_and_a_backup(ingress: Ingress) -> None:
    approval_id = hold_production_deploy(ingress)
    bob_runs_a_deploy(ingress)
    lock_acme(ingress)
    view = open_home(ingress, BOB)
    text = shown(view)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert f"<@{ALICE}> asks to run `/ops {PRODUCTION}`" in text
    assert buttons(view) == [(APPROVE, approval_id), (DENY, approval_id)]  # the channel message's, exactly
    running = text.split("*Your commands running now*")[1].split("*Your last 10 commands*")[0]
    assert "bobrunning01" in running and "bobfinished1" not in running
    recent = text.split("*Your last 10 commands*")[1]
    assert "bobrunning01" in recent and "bobfinished1" in recent
    assert "alicecmd0001" not in text  # someone else's command: not on Bob's Home
    assert f":lock: `acme` `staging` — <@{ALICE}> until 2026-11-28 13:00 UTC: db migration &lt;b&gt;&amp;" in text
    assert "`orders` — `orders-20261128T101500Z-3f9c2a`, started 2026-11-28 10:15 UTC (1 h ago)" in text
    assert "`billing`" not in text  # the rules do not let Bob back it up


def test_the_requester_is_not_asked_to_approve_their_own_request(ingress: Ingress) -> None:
    hold_production_deploy(ingress)
    view = open_home(ingress, ALICE)
    assert "Nothing waits for you." in shown(view)
    assert buttons(view) == []


def test_a_user_the_rules_admit_to_nothing_sees_only_their_own(ingress: Ingress) -> None:
    hold_production_deploy(ingress)
    lock_acme(ingress)
    text = shown(open_home(ingress, DAN))
    assert "Nothing waits for you." in text
    assert "acme" not in text and "Deploy locks" not in text  # `locks` is not theirs to run
    assert "let you back up none" in text


def test_a_part_not_read_in_time_says_so(ingress: Ingress) -> None:
    hold_production_deploy(ingress)
    approvals = ingress.deps.approvals
    assert isinstance(approvals, MemoryApprovalStore)
    approvals.unavailable = True
    ingress.deps.backups = MemoryBackupCatalog(unavailable=True)
    text = shown(open_home(ingress, BOB))
    assert "Not read in time (the approval table did not answer)" in text
    assert "`orders` — not read in time" in text


def click_on_home(ingress: Ingress, action: str, value: str, user_id: str, *, tick: int) -> int:
    payload = home_click_payload(action, value, user_id=user_id)
    payload["actions"][0]["action_ts"] = f"1764400010.00{tick}"
    body = click_body(payload)
    status, _ = ingress.click(body, signed_headers(body))
    return status


def requested(ingress: Ingress) -> list[CommandRequested]:
    return [event for event in ingress.publisher.events if isinstance(event, CommandRequested)]


def test_approve_from_the_home_runs_the_command_once_as_the_requesters(ingress: Ingress) -> None:
    approval_id = hold_production_deploy(ingress)
    open_home(ingress, BOB)
    assert click_on_home(ingress, APPROVE, approval_id, BOB, tick=1) == 200
    assert click_on_home(ingress, APPROVE, approval_id, BOB, tick=2) == 200  # a double click
    (run,) = requested(ingress)
    assert (run.command_id, run.actor.user_id, run.place.channel_id) == (approval_id, ALICE, "C0123")
    assert run.approval is not None and run.approval.approver_id == BOB
    responder = ingress.deps.responder
    assert isinstance(responder, RecordingResponder) and responder.posted == []  # no response_url: the Home answers
    first, second = home_of(ingress).published[BOB][1:]
    assert f"Approved by <@{BOB}>" in shown(first) and "is queued as" in shown(first)
    assert "already approved" in shown(second)
    assert buttons(second) == []  # decided: no longer waiting on Bob's Home


def test_deny_from_the_home_runs_nothing(ingress: Ingress) -> None:
    approval_id = hold_production_deploy(ingress)
    assert click_on_home(ingress, DENY, approval_id, BOB, tick=1) == 200
    assert requested(ingress) == []
    assert f"Denied by <@{BOB}>" in shown(home_of(ingress).latest(BOB))


def test_a_home_click_by_someone_not_an_approver_learns_nothing(ingress: Ingress) -> None:
    approval_id = hold_production_deploy(ingress)
    assert click_on_home(ingress, APPROVE, approval_id, DAN, tick=1) == 200
    assert requested(ingress) == []
    text = shown(home_of(ingress).latest(DAN))
    assert f"There is no command `{approval_id}` that you can see." in text
    assert ALICE not in text


def test_the_requester_cannot_approve_from_their_home(ingress: Ingress) -> None:
    approval_id = hold_production_deploy(ingress)
    assert click_on_home(ingress, APPROVE, approval_id, ALICE, tick=1) == 200
    assert requested(ingress) == []
    assert "cannot approve it yourself" in shown(home_of(ingress).latest(ALICE))


def test_only_approval_buttons_work_on_the_home(ingress: Ingress) -> None:
    assert click_on_home(ingress, CANCEL, "abc123def456", BOB, tick=1) == 200
    assert "has no button" in shown(home_of(ingress).latest(BOB))


def test_a_click_without_a_response_url_outside_the_home_is_malformed(ingress: Ingress) -> None:
    payload = home_click_payload(APPROVE, "abc123def456", user_id=BOB)
    payload["container"] = {"type": "message", "message_ts": "1.2", "channel_id": "C0123"}
    body = click_body(payload)
    status, answer = ingress.click(body, signed_headers(body))
    assert status == 200 and "not a button click" in message_text(answer)
    assert home_of(ingress).published == {}


def test_the_home_fits_slacks_limits_with_many_approvals_and_commands(ingress: Ingress) -> None:
    for index in range(40):
        status, _ = ingress.send(PRODUCTION, user_id=ALICE, trigger_id=f"t{index}")
        assert status == 200
    ledger = ingress.deps.ledger
    assert isinstance(ledger, InMemoryLedger)
    for index in range(40):
        ledger.record(command_requested(f"bob{index:09d}", user=BOB, minute=-index), now=NOW)
    view = open_home(ingress, BOB)
    assert len(view["blocks"]) <= 100
    assert all(len(block.get("text", {}).get("text", "")) <= 3000 for block in view["blocks"])
    assert len(buttons(view)) == 2 * 15
    assert "25 more not shown" in shown(view)
    ids = {value for _, value in buttons(view)}
    assert (
        len(ids) == 15 and len({block.get("block_id") for block in view["blocks"] if block["type"] == "actions"}) == 15
    )


def test_an_expired_request_is_not_listed(ingress: Ingress) -> None:
    hold_production_deploy(ingress)
    ingress.deps.now = lambda: NOW + timedelta(hours=2)  # past the rule's default expiry
    assert buttons(open_home(ingress, BOB)) == []


def test_an_approver_who_may_not_deploy_decides_from_the_home_too(ingress: Ingress) -> None:
    """Carol is named an approver but no rule lets her see deploys: the Home lists the request to her, and her
    click there is decided (in a channel she would need to be where it was posted)."""
    approval_id = hold_production_deploy(ingress)
    assert buttons(open_home(ingress, CAROL)) == [(APPROVE, approval_id), (DENY, approval_id)]
    assert click_on_home(ingress, APPROVE, approval_id, CAROL, tick=1) == 200
    (run,) = requested(ingress)
    assert run.approval is not None and run.approval.approver_id == CAROL
