"""Freezes at the ingress, through the real Chalice app on fakes: `freeze`, `unfreeze`, `freezes`, a deploy (or a
rollback) into a frozen environment refused at once, and one into a window with an `override` held for its
approvers, then run once approved — without being held again, and never on a rule's approval alone."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from chalicelib.approving import APPROVE
from shared.errors import ConfigurationError
from shared.events.models import CommandRefused, CommandRequested
from tests.support.events import command_requested, succeeded
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.groups import MemoryGroupDirectory
from tests.support.fakes.ingress import MemoryApprovalStore, ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.locks import MemoryLockStore
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers

ALICE, BOB, LEAD, ERIN, OUTSIDER = "U0ALICE", "U0BOB", "U0LEAD", "U0ERIN", "U0OUT"
FRIDAY_EVENING = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # 18:00 in Berlin: inside the weekend window
WEDNESDAY = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ACCESS: list[dict[str, Any]] = [
    {"command": "deploy", "users": [ALICE, BOB, LEAD, ERIN]},
    {"command": "freeze", "users": [ALICE, BOB]},
    {"command": "unfreeze", "users": [BOB]},
    {"command": "locks"},
    {"command": "whoami"},
    {"command": "history"},
]
WEEKEND = {
    "env": "production",
    "cron": "0 16 * * FRI",
    "duration": "64h",
    "timezone": "Europe/Berlin",
    "reason": "weekend",
}
OVERRIDE = {"users": [LEAD], "groups": ["S0SRE"]}
DEPLOY = "deploy --client acme --branch main --env production"
FREEZE = 'freeze --env production --for 2h --reason "incident 42"'


class Clock:
    def __init__(self) -> None:
        self.now = WEDNESDAY

    def __call__(self) -> datetime:
        return self.now


Build = Callable[..., Ingress]


@pytest.fixture
def build() -> Iterator[Build]:
    clients: list[Client] = []

    def make(
        *,
        freezes: Sequence[dict[str, Any]] = (),
        access: list[dict[str, Any]] = ACCESS,
        now: datetime = WEDNESDAY,
        ledger: InMemoryLedger | None = None,
    ) -> Ingress:
        clock = Clock()
        clock.now = now
        counter = itertools.count(1)
        config = {"access": access, "deploy": {"clients": ["acme"], "freezes": list(freezes)}}
        deps = ingress_deps(
            config=StaticConfig.from_text(json.dumps(config)),
            publisher=RecordingPublisher(),
            locks=MemoryLockStore(),
            groups=MemoryGroupDirectory().define("S0SRE", "sre", [ERIN]),
            new_id=lambda: f"new{next(counter):09d}",
            now=clock,
            **({"ledger": ledger} if ledger is not None else {}),
        )
        client = Client(create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps))
        clients.append(client)
        return Ingress(client=client, publisher=deps.publisher, deps=deps)  # type: ignore[arg-type]

    yield make
    for client in clients:
        client.__exit__(None, None, None)


_TYPED = itertools.count(1)


def send(ops: Ingress, text: str, user: str) -> tuple[str, dict[str, Any]]:
    status, payload = ops.send(text, user_id=user, user_name=user.lower(), trigger_id=f"t.{next(_TYPED)}")
    assert status == 200
    return message_text(payload), payload


def deploys(ops: Ingress) -> list[CommandRequested]:
    return [e for e in ops.publisher.events if isinstance(e, CommandRequested) and e.command == "deploy"]


def recorded(ops: Ingress, command: str) -> list[str]:
    return [
        e.answered or ""
        for e in ops.publisher.events
        if isinstance(e, CommandRequested) and e.command == command and e.answered
    ]


def pending(ops: Ingress) -> list[Any]:
    store = ops.deps.approvals
    assert isinstance(store, MemoryApprovalStore)
    return [approval for approval in store.approvals.values() if approval.state == "pending"]


_CLICKS = itertools.count(1)


def approve(ops: Ingress, approval_id: str, user: str) -> str:
    payload = click_payload(APPROVE, approval_id, user_id=user, user_name=user.lower())
    payload["container"]["is_ephemeral"] = False
    payload["actions"][0]["action_ts"] = f"1764400010.{next(_CLICKS):06d}"
    body = click_body(payload)
    status, answer = ops.click(body, signed_headers(body))
    assert status == 200
    return message_text(answer)


# --- ad-hoc freezes -------------------------------------------------------------------------------------------------


def test_an_adhoc_freeze_refuses_every_deploy_at_once_with_reason_who_and_until(build: Build) -> None:
    ops = build()
    shown, payload = send(ops, FREEZE, ALICE)
    assert payload["response_type"] == "in_channel"
    assert "<@U0ALICE> froze `production` until Wed 2026-12-02 14:00 UTC (2h): incident 42" in shown
    assert "`/ops unfreeze --env production`" in shown
    assert recorded(ops, "freeze") == ["froze `production` until Wed 2026-12-02 14:00 UTC: incident 42"]

    for user in (BOB, ALICE):  # the one who froze it too: a freeze is not a lock
        refused, _ = send(ops, DEPLOY, user)
        assert "Environment frozen" in refused
        assert (
            ":snowflake: `production` is frozen until Wed 2026-12-02 14:00 UTC — incident 42 (frozen by <@U0ALICE>). "
            "Nothing was started." in refused
        )
        assert "Ask <@U0ALICE>" in refused and "`/ops unfreeze --env production`" in refused
    assert deploys(ops) == []
    assert pending(ops) == []
    refusals = [e for e in ops.publisher.events if isinstance(e, CommandRefused)]
    assert len(refusals) == 2 and "frozen" in refusals[0].reason

    staging, _ = send(ops, "deploy --client acme --branch main --env staging", BOB)
    assert "accepted as" in staging and len(deploys(ops)) == 1


def test_a_rollback_into_a_frozen_environment_is_refused_too(build: Build) -> None:
    ledger = InMemoryLedger()
    for minute, branch in enumerate(("release/2.3", "release/2.4")):
        arguments = {"client": "acme", "branch": branch, "env": "production"}
        ledger.record(command_requested(f"dep{minute:07d}", arguments=arguments, minute=minute), now=WEDNESDAY)
        ledger.record(succeeded(f"dep{minute:07d}", minute=minute + 0.5), now=WEDNESDAY)
    ops = build(ledger=ledger)
    send(ops, FREEZE, ALICE)
    refused, _ = send(ops, "rollback --client acme --env production", BOB)
    assert "Rollback: back to `release/2.3`" in refused
    assert "`production` is frozen until" in refused and "Nothing was started." in refused
    assert deploys(ops) == []


def test_unfreeze_ends_the_adhoc_freeze_and_is_recorded_with_who(build: Build) -> None:
    ops = build()
    send(ops, FREEZE, ALICE)
    denied, _ = send(ops, "unfreeze --env production", ALICE)  # no rule admits Alice to `unfreeze`
    assert "Not allowed" in denied
    shown, payload = send(ops, "unfreeze --env production", BOB)
    assert payload["response_type"] == "in_channel"
    assert "<@U0BOB> unfroze `production` (frozen by <@U0ALICE> until Wed 2026-12-02 14:00 UTC: incident 42)." in shown
    assert recorded(ops, "unfreeze") == [
        "unfroze `production` (frozen by <@U0ALICE> until Wed 2026-12-02 14:00 UTC: incident 42)"
    ]
    assert "accepted as" in send(ops, DEPLOY, ALICE)[0]
    again, _ = send(ops, "unfreeze --env production", BOB)
    assert "Not frozen" in again and "`production` is not frozen by `/ops freeze`" in again


def test_an_adhoc_freeze_expires_by_itself(build: Build) -> None:
    ops = build()
    send(ops, FREEZE, ALICE)
    assert isinstance(ops.deps.now, Clock)
    ops.deps.now.now = WEDNESDAY + timedelta(hours=2)
    assert "accepted as" in send(ops, DEPLOY, BOB)[0]


def test_a_second_users_freeze_is_told_who_froze_it_and_the_first_stands(build: Build) -> None:
    ops = build()
    send(ops, FREEZE, ALICE)
    shown, _ = send(ops, 'freeze --env production --for 1d --reason "mine"', BOB)
    assert "Already frozen" in shown and "already frozen by <@U0ALICE> until Wed 2026-12-02 14:00 UTC" in shown
    renewed, _ = send(ops, 'freeze --env production --for 4h --reason "incident 42, longer"', ALICE)
    assert "until Wed 2026-12-02 16:00 UTC (4h)" in renewed


@pytest.mark.parametrize(
    ("duration", "expected"), [("15d", "longer than the longest freeze allowed (14d)"), ("2 hours", "Invalid `--for`")]
)
def test_a_freeze_duration_out_of_bounds_is_a_usage_error(build: Build, duration: str, expected: str) -> None:
    ops = build()
    shown, _ = send(ops, f'freeze --env production --for "{duration}" --reason x', ALICE)
    assert expected in shown
    assert isinstance(ops.deps.locks, MemoryLockStore) and ops.deps.locks.locks == {}


def test_a_lock_table_that_does_not_answer_refuses_the_deploy(build: Build) -> None:
    ops = build()
    assert isinstance(ops.deps.locks, MemoryLockStore)
    ops.deps.locks.unavailable = True
    shown, _ = send(ops, DEPLOY, BOB)
    assert "could not check whether `production` is frozen" in shown and "the deploy was not started" in shown
    assert deploys(ops) == []


def test_freezes_share_the_lock_table_but_not_the_locks_list(build: Build) -> None:
    ops = build()
    send(ops, FREEZE, ALICE)
    assert "No deploy target is locked." in send(ops, "locks", BOB)[0]


# --- scheduled windows ----------------------------------------------------------------------------------------------


def test_a_scheduled_window_refuses_naming_the_window_and_its_end_in_its_time_zone(build: Build) -> None:
    ops = build(freezes=[WEEKEND], now=FRIDAY_EVENING)
    shown, _ = send(ops, DEPLOY, BOB)
    assert (
        ":snowflake: `production` is frozen until Mon 2026-12-07 08:00 Europe/Berlin (07:00 UTC) — weekend "
        "(scheduled window `0 16 * * FRI` Europe/Berlin for 64h). Nothing was started." in shown
    )
    assert "`deploy.freezes`" in shown
    assert deploys(ops) == [] and pending(ops) == []
    explained, _ = send(ops, "unfreeze --env production", BOB)
    assert "frozen by the scheduled window `0 16 * * FRI` Europe/Berlin for 64h" in explained
    assert "`deploy.freezes` in the slashops configuration is changed" in explained


def test_outside_the_window_a_deploy_goes_through(build: Build) -> None:
    ops = build(freezes=[WEEKEND], now=datetime(2026, 12, 4, 14, 59, tzinfo=UTC))  # 15:59 in Berlin
    assert "accepted as" in send(ops, DEPLOY, BOB)[0]


def test_an_unreadable_configuration_refuses_the_deploy(build: Build) -> None:
    ops = build()
    ops.deps.config.value = ConfigurationError("deploy.freezes.0.timezone: unknown time zone")  # type: ignore[attr-defined]
    shown, _ = send(ops, DEPLOY, BOB)
    assert "Configuration error" in shown
    assert deploys(ops) == []


# --- overrides ------------------------------------------------------------------------------------------------------


def test_a_window_with_an_override_holds_the_deploy_until_an_override_approver_approves(build: Build) -> None:
    ops = build(freezes=[{**WEEKEND, "override": OVERRIDE}], now=FRIDAY_EVENING)
    shown, _ = send(ops, DEPLOY, BOB)
    assert "overriding the freeze of `production` (weekend; scheduled window `0 16 * * FRI` Europe/Berlin for 64h)" in (
        shown
    )
    assert deploys(ops) == []
    (approval,) = pending(ops)
    assert (approval.rule, approval.approver_users, approval.approver_groups) == (0, (LEAD,), ("S0SRE",))
    assert approval.held_because.startswith("overriding the freeze of `production`")

    refused = approve(ops, approval.approval_id, ALICE)  # not an override approver
    assert "You cannot approve this" in refused and deploys(ops) == []

    answer = approve(ops, approval.approval_id, ERIN)  # in @sre
    assert "Approved by <@U0ERIN>" in answer
    (published,) = deploys(ops)
    assert published.command_id == approval.approval_id and published.actor.user_id == BOB
    assert published.approval is not None and published.approval.held_because == approval.held_because
    assert pending(ops) == []  # run, not held again


def test_an_approved_override_still_meets_the_access_rules(build: Build) -> None:
    ops = build(freezes=[{**WEEKEND, "override": OVERRIDE}], now=FRIDAY_EVENING)
    send(ops, DEPLOY, BOB)
    (approval,) = pending(ops)
    ops.deps.config.value = StaticConfig.from_text(  # type: ignore[attr-defined]
        json.dumps({"access": [{"command": "deploy", "users": [ALICE]}], "deploy": {"freezes": [WEEKEND]}})
    ).value
    answer = approve(ops, approval.approval_id, LEAD)
    assert "not started" in answer or "Not allowed" in answer
    assert deploys(ops) == []


def test_an_adhoc_freeze_inside_an_override_window_is_refused_not_held(build: Build) -> None:
    ops = build(freezes=[{**WEEKEND, "override": OVERRIDE}], now=FRIDAY_EVENING)
    send(ops, FREEZE, ALICE)
    shown, _ = send(ops, DEPLOY, BOB)
    assert "Environment frozen" in shown and "incident 42 (frozen by <@U0ALICE>)" in shown
    assert pending(ops) == []


def test_the_override_then_the_rules_approval_both_given_and_the_deploy_carries_the_rules(build: Build) -> None:
    access = [
        {"command": "deploy", "users": [BOB, LEAD, ALICE]},
        {
            "command": "deploy",
            "users": [BOB],
            "arguments": {"env": ["production"]},
            "approval": {"users": [ALICE]},
        },
    ]
    ops = build(freezes=[{**WEEKEND, "override": OVERRIDE}], access=access, now=FRIDAY_EVENING)
    first, _ = send(ops, DEPLOY, BOB)
    assert "overriding the freeze of `production`" in first
    (by_freeze,) = pending(ops)
    assert (by_freeze.rule, by_freeze.approver_users) == (0, (LEAD,))
    assert "You cannot approve this" in approve(ops, by_freeze.approval_id, ALICE)  # the rule's approver is not

    approve(ops, by_freeze.approval_id, LEAD)  # the override: the access rule is asked next
    assert deploys(ops) == []
    (by_rule,) = pending(ops)
    assert (by_rule.rule, by_rule.held_because, by_rule.overrode) == (2, "", by_freeze.held_because)
    assert "You cannot approve this" in approve(ops, by_rule.approval_id, LEAD)

    approve(ops, by_rule.approval_id, ALICE)
    (published,) = deploys(ops)
    assert published.command_id == by_rule.approval_id
    assert published.approval is not None
    assert (published.approval.approver_id, published.approval.rule) == (ALICE, 2)  # what the consumer rechecks
    assert published.approval.overrode == by_freeze.held_because  # what the deploy service's freeze look accepts
    assert pending(ops) == []


# --- freezes and whoami ---------------------------------------------------------------------------------------------


def test_freezes_lists_active_and_upcoming_for_whoever_may_deploy(build: Build) -> None:
    ops = build(freezes=[{**WEEKEND, "override": OVERRIDE}])
    send(ops, 'freeze --env staging --for 1d --reason "db migration"', ALICE)
    shown, _ = send(ops, "freezes", ERIN)
    assert "*Frozen now*" in shown
    assert (
        "`staging` frozen until Thu 2026-12-03 12:00 UTC — db migration (frozen by <@U0ALICE>); deploys are refused"
        in (shown)
    )
    assert (
        "`production` freezes from Fri 2026-12-04 16:00 Europe/Berlin (15:00 UTC) until Mon 2026-12-07 08:00 "
        "Europe/Berlin (07:00 UTC) — weekend (scheduled window `0 16 * * FRI` Europe/Berlin for 64h); deploys need "
        "an override approved by <@U0LEAD> or <!subteam^S0SRE>" in shown
    )
    refused, _ = send(ops, "freezes", OUTSIDER)
    assert "Only users the access rules admit to `deploy`" in refused and "weekend" not in refused


def test_freezes_says_when_nothing_is_frozen(build: Build) -> None:
    ops = build()
    assert "No environment is frozen, and no freeze window opens in the next 7d." in send(ops, "freezes", BOB)[0]


def test_whoami_names_the_freezes_that_affect_the_callers_deploys(build: Build) -> None:
    access = [*ACCESS[1:], {"command": "deploy", "users": [BOB], "arguments": {"env": ["staging"]}}]
    ops = build(freezes=[WEEKEND], access=[*access, {"command": "deploy", "users": [ALICE]}], now=FRIDAY_EVENING)
    shown, _ = send(ops, "whoami", ALICE)
    assert "*Freezes that affect your deploys*" in shown
    assert ":snowflake: `production` frozen until Mon 2026-12-07 08:00 Europe/Berlin (07:00 UTC) — weekend" in shown
    bob, _ = send(ops, "whoami", BOB)  # may deploy to staging only: production's freeze is not his concern
    assert "Freezes that affect your deploys" not in bob
    send(ops, 'freeze --env staging --for 2h --reason "incident 42"', ALICE)
    assert ":snowflake: `staging` frozen until" in send(ops, "whoami", BOB)[0]


def test_whoami_warns_of_a_window_opening_within_a_day(build: Build) -> None:
    ops = build(freezes=[WEEKEND], now=datetime(2026, 12, 4, 6, 0, tzinfo=UTC))
    shown, _ = send(ops, "whoami", ALICE)
    assert ":calendar: `production` freezes from Fri 2026-12-04 16:00 Europe/Berlin (15:00 UTC)" in shown
    later = build(freezes=[WEEKEND], now=WEDNESDAY)
    assert "Freezes that affect your deploys" not in send(later, "whoami", ALICE)[0]


def test_a_reason_is_escaped_wherever_it_is_shown(build: Build) -> None:
    ops = build()
    send(ops, 'freeze --env production --for 2h --reason "<!channel> see <https://evil.test|docs>"', ALICE)
    for shown in (send(ops, DEPLOY, BOB)[0], send(ops, "freezes", BOB)[0], recorded(ops, "freeze")[0]):
        assert "<!channel>" not in shown and "<https://evil.test" not in shown
        assert "@channel see" in shown


def test_unfreezing_inside_a_window_says_the_window_still_holds(build: Build) -> None:
    ops = build(freezes=[WEEKEND], now=FRIDAY_EVENING)
    send(ops, FREEZE, ALICE)
    shown, _ = send(ops, "unfreeze --env production", BOB)
    assert "<@U0BOB> unfroze `production` (frozen by <@U0ALICE>" in shown
    assert (
        "It stays frozen by the scheduled window `0 16 * * FRI` Europe/Berlin for 64h until Mon 2026-12-07 08:00 "
        "Europe/Berlin (07:00 UTC): weekend." in shown
    )
    assert "Environment frozen" in send(ops, DEPLOY, BOB)[0]
