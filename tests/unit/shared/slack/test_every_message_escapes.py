"""One escaping rule for every field Slack renders, held on every message builder (issue 19, finding 5).

Slack renders a message's fallback `text` as mrkdwn just like its blocks: a raw `<!channel>` there notifies the
channel, a raw `<https://…|label>` is a link. Every builder is driven here with hostile values where users, Slack,
Jenkins, the configuration or a service put them in, and neither `text` nor any block may carry them raw, or
escaped twice. `test_every_builder_has_a_hostile_case` finds every function that builds a `SlackMessage` (by
reading the source): a new builder fails it until a case below drives it. The services' message modules (the
mrkdwn their events carry) are discovered whole and driven with hostile arguments built from their signatures.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from chalice.test import Client
from pydantic import BaseModel

from app import create_app
from chalicelib.approving import APPROVE, DENY
from chalicelib.confirming import RestoreButton, prompt
from chalicelib.ledger_view import Viewer
from chalicelib.status import status_message
from services.backup import messages as backup_messages
from services.deploy import messages as deploy_messages
from services.deploy.errors import JenkinsError, JenkinsUnavailableError
from services.notifier.messages import format_event, parent_message, thread_reply
from shared.approvals import PendingApproval
from shared.commands.catalog import CATALOG
from shared.commands.spec import CommandSpec
from shared.events.models import ApprovalRequested, CommandRefused, Link, ResultEvent
from shared.slack import messages as slack_messages
from shared.slack.approvals import (
    HeldCommand,
    approval_expired,
    approval_reminder,
    approval_request,
    decision_dm,
    sent_for_approval,
)
from shared.slack.blocks import SlackMessage
from shared.slack.messages import acknowledgement, answer, help_for, help_overview
from shared.slack.mrkdwn import code, escape, text
from tests.support.events import (
    accepted,
    at,
    cancelled,
    command_requested,
    failed,
    progress,
    refused,
    rejected,
    reply_to,
    succeeded,
)
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.ingress import Ingress
from tests.support.mrkdwn import check_mrkdwn
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers

EVIL = "<!channel> <@U0ADMIN> <https://evil.example|click me> a&b *bold*"
"""What a hostile user types (Slack sends it as `TYPED`): a broadcast, a mention, a link and an ampersand."""
EVIL_WORD = "<!channel><@U0ADMIN>"
"""A hostile first word (a refused command's name is kept, up to 40 characters)."""
ESCAPED = "&lt;!channel&gt;"
TYPED = escape(EVIL)
EVIL_SHOWN = text(EVIL)
RAW = ("<!channel", "<@U0ADMIN", "<https://evil", "a&b")
TWICE = ("&amp;lt;", "&amp;gt;", "&amp;amp;")
REPO = Path(__file__).resolve().parents[4]
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RULES = json.dumps(
    [
        {"command": "restore", "users": ["U0ABC"], "approval": {"users": ["U0BOB"], "expires": "30m"}},
        {"command": "lock"},
        {"command": "unlock", "users": ["U0BOB"]},
        {"command": "locks"},
        {"command": "freeze"},
        {"command": "unfreeze"},
        {"command": "deploy"},
    ]
)


# --- what a message may carry ------------------------------------------------------------------------------


def rendered(payload: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, string) for the fallback `text` and every `text` Slack shows, at any depth of the blocks (sections,
    context elements, buttons, their confirm dialogs); never a button's `value` (data, not shown)."""
    yield "text", payload.get("text", "")

    def walk(node: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    yield f"{where}.text", value
                elif key not in ("value", "action_id", "block_id", "url"):
                    yield from walk(value, f"{where}.{key}")
        elif isinstance(node, list | tuple):
            for index, value in enumerate(node):
                yield from walk(value, f"{where}[{index}]")

    yield from walk(list(payload.get("blocks", [])), "blocks")


def check_shown(where: str, value: str) -> None:
    """Nothing hostile raw, nothing escaped twice, every `<` a real reference and every `&` an entity."""
    for raw in RAW:
        assert raw not in value, f"{raw!r} unescaped in {where}: {value!r}"
    for twice in TWICE:
        assert twice not in value, f"escaped twice ({twice}) in {where}: {value!r}"
    check_mrkdwn(value)


def check_message(message: SlackMessage) -> str:
    """Every field Slack renders checked; returns all it shows."""
    shown = ""
    for where, value in rendered(message.payload()):
        check_shown(where, value)
        shown += value + "\n"
    return shown


# --- the cases: each drives one or more builders with EVIL --------------------------------------------------


@dataclass
class World:
    """The real ingress on fakes, for builders reached through a request or a click."""

    ingress: Ingress
    ledger: InMemoryLedger
    clock: list[datetime]
    ticks: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(1))

    def send(self, typed: str, **form: str) -> SlackMessage:
        status, payload = self.ingress.send(typed, trigger_id=f"trigger.{next(self.ticks)}", **form)
        assert status == 200
        return SlackMessage.model_validate(payload)

    def press(self, action: str, value: str, user_id: str, user_name: str) -> SlackMessage:
        payload = click_payload(action, value, user_id=user_id, user_name=user_name)
        payload["container"]["is_ephemeral"] = False
        payload["actions"][0]["action_ts"] = f"1764400010.{next(self.ticks):06d}"
        body = click_body(payload)
        status, answer = self.ingress.click(body, signed_headers(body))
        assert status == 200
        return SlackMessage.model_validate(answer)

    def held_restore(self) -> str:
        """A restore whose backup id is `EVIL`, held for Bob's approval: its approval id (the approval message's
        buttons carry it; the notifier posts that message from the `ApprovalRequested` the ingress publishes)."""
        asked = self.send(f'restore --db orders --from "{TYPED}" --confirm orders', user_id="U0ABC")
        assert ESCAPED in asked.text  # the requester's private answer shows it, escaped
        held = [e for e in self.ingress.publisher.events if isinstance(e, ApprovalRequested)][-1]
        return held.command_id


@pytest.fixture
def world() -> Iterator[World]:
    clock = [START]
    ledger = InMemoryLedger()
    publisher = RecordingPublisher()
    deps = ingress_deps(
        config=StaticConfig.from_text(RULES),
        publisher=publisher,
        ledger=ledger,
        new_id=lambda: f"new{len(publisher.events):09d}",
        now=lambda: clock[0],
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield World(Ingress(client=client, publisher=publisher, deps=deps), ledger, clock)


Case = Callable[[World], list[SlackMessage]]


def _refused() -> CommandRefused:
    """A command typed as `EVIL_WORD` and refused: the ingress keeps its first word, and the reason as shown."""
    event = refused("5e1f00d00d5e", command=EVIL_WORD)
    return event.model_copy(update={"reason": f"{code(EVIL_WORD)} is not a command."})


def _status(world: World) -> list[SlackMessage]:
    """A refused command typed as `EVIL` (the ledger keeps its first word as the command), and one whose text and
    arguments are `EVIL`, as their owner's `status` shows them."""
    world.ledger.record(_refused(), now=at(0))
    typed = command_requested("abc123def456", command="restore", arguments={"db": "orders", "from": EVIL}, text=EVIL)
    world.ledger.record(typed, now=at(0))
    viewer = Viewer("U0ABC", "example.user", lambda: ())
    return [status_message(command_id, world.ledger, viewer, at(1)) for command_id in ("5e1f00d00d5e", "abc123def456")]


def _history(world: World) -> list[SlackMessage]:
    world.ledger.record(_refused(), now=at(0))
    world.ledger.record(command_requested("abc123def456", arguments={"from": EVIL}, text=EVIL), now=at(0))
    return [world.send("history", user_id="U0ABC"), world.send("history --refused", user_id="U0ABC")]


def _restore_spec() -> CommandSpec:
    spec = CATALOG.get("restore")
    assert spec is not None
    return spec


def _spec_with_evil_words() -> CommandSpec:
    """A command whose free text (summary, description, examples, options' help) is `EVIL`."""
    spec = _restore_spec()
    arguments = tuple(argument.model_copy(update={"help": EVIL}) for argument in spec.arguments)
    return spec.model_copy(update={"summary": EVIL, "description": EVIL, "examples": (EVIL,), "arguments": arguments})


def _approval() -> PendingApproval:
    return PendingApproval(
        approval_id="held00000001",
        command="restore",
        text=f"restore --db orders --from {EVIL}",
        requester="U0ABC",
        requester_name=EVIL,
        team_id="T0001",
        channel_id="C0123",
        channel_name=EVIL,
        response_url="https://hooks.slack.com/commands/T0001/1/x",
        rule=1,
        approver_users=("U0BOB",),
        requested_at=1_764_331_200,
        expires_at=1_764_333_000,
    )


def _approval_end() -> list[SlackMessage]:
    """The sweeper's expiry, the halfway reminder and the requester's DMs, with `EVIL` typed and as a decider."""
    held = HeldCommand.of(_approval())
    return [
        approval_expired(held),
        approval_reminder(held, held.requested_at),
        *(decision_dm(held, outcome, EVIL, held.requested_at) for outcome in ("approved", "denied", "expired")),
    ]


def _approval_decided(world: World) -> list[SlackMessage]:
    """Bob (whose Slack name is `EVIL`) denies it; then clicks again (already decided)."""
    held = world.held_restore()
    return [world.press(DENY, held, "U0BOB", EVIL), world.press(DENY, held, "U0BOB", EVIL)]


def _approval_not_started(world: World) -> list[SlackMessage]:
    held = world.held_restore()
    publisher = world.ingress.publisher
    publisher.fail = True
    try:
        return [world.press(APPROVE, held, "U0BOB", EVIL)]
    finally:
        publisher.fail = False


def _approval_approved(world: World) -> list[SlackMessage]:
    return [world.press(APPROVE, world.held_restore(), "U0BOB", EVIL)]


def _approval_expired(world: World) -> list[SlackMessage]:
    held = world.held_restore()
    world.clock[0] = START + timedelta(hours=1)
    return [world.press(APPROVE, held, "U0BOB", EVIL)]


def _locks(world: World) -> list[SlackMessage]:
    """Alice locks with `EVIL` as the reason; everyone lists it; Bob (admitted to `unlock`) ends it."""
    return [
        world.send(f'lock --client acme --env production --reason "{TYPED}"', user_id="U0ABC"),
        world.send("locks", user_id="U0ABC"),
        world.send("unlock --client acme --env production", user_id="U0BOB", user_name="bob"),
    ]


def _freezes(world: World) -> list[SlackMessage]:
    """Alice freezes production with `EVIL` as the reason; a deploy into it is refused; all list it; Bob unfreezes."""
    return [
        world.send(f'freeze --env production --for 1h --reason "{TYPED}"', user_id="U0ABC"),
        world.send("deploy --client acme --env production --branch main", user_id="U0BOB", user_name="bob"),
        world.send("freezes", user_id="U0ABC"),
        world.send("unfreeze --env production", user_id="U0BOB", user_name="bob"),
    ]


def _link(label: str = EVIL, url: str = EVIL) -> Link:
    return Link.model_construct(label=label, url=url)


def _events() -> list[ResultEvent]:
    """Each result event with its mrkdwn fields as a service writes them (`EVIL` escaped once, where put in) and its
    plain fields (output, link labels and URLs, user ids) raw."""
    evil_reply = reply_to(user=EVIL)
    return [
        accepted(reply=evil_reply).model_copy(update={"message": EVIL_SHOWN, "activity": EVIL_SHOWN}),
        progress(EVIL_SHOWN, percent=50).model_copy(update={"link": _link(), "activity": EVIL_SHOWN}),
        succeeded(output=EVIL, reply=evil_reply).model_copy(
            update={"summary": EVIL_SHOWN, "links": (_link(), _link(url="https://jenkins.example/1"))}
        ),
        failed(reply=evil_reply).model_copy(update={"reason": EVIL_SHOWN, "output": EVIL, "activity": EVIL_SHOWN}),
        cancelled(by=EVIL).model_copy(update={"reason": EVIL_SHOWN, "activity": EVIL_SHOWN}),
        rejected().model_copy(update={"reason": EVIL_SHOWN, "hint": EVIL_SHOWN}),
    ]


def _announced() -> list[SlackMessage]:
    ledger = InMemoryLedger()
    ledger.record(command_requested(reply=reply_to(user=EVIL)), now=at(0))
    messages = []
    for event in _events():
        ledger.record(event, now=event.occurred_at)
        entry = ledger.get(event.command_id)
        assert entry is not None
        entry = entry.model_copy(update={"links": (_link(),)})
        messages += [parent_message(event, entry, at(10)), thread_reply(event)]
    return messages


CASES: dict[str, tuple[Case, bool]] = {
    "answer": (lambda _: [answer(f"Ran with {text(EVIL)}", f"note {text(EVIL)}")], True),
    # id: (what builds the messages, whether the fallback `text` itself shows the hostile value)
    "refusal": (lambda world: [world.send(f'"{TYPED}"', user_id="U0ABC")], True),
    "acknowledgement": (
        lambda _: [acknowledgement(_restore_spec(), {"db": "orders", "from": EVIL}, "c0ffee123456")],
        False,
    ),
    "restore-prompt": (lambda _: [prompt(RestoreButton(db=EVIL, backup=EVIL))], True),
    "status": (_status, True),
    "history": (_history, False),
    "whoami": (
        lambda world: [world.send("whoami", user_id="U0ABC", user_name=EVIL, channel_id=EVIL, channel_name=EVIL)],
        True,
    ),
    "help": (
        lambda _: [help_overview([_spec_with_evil_words()], footer=EVIL_SHOWN), help_for(_spec_with_evil_words())],
        False,
    ),
    "approval-request": (lambda _: [approval_request(HeldCommand.of(_approval()))], True),
    "approval-sent": (lambda _: [sent_for_approval(HeldCommand.of(_approval()))], True),
    "approval-end": (lambda _: _approval_end(), True),
    "approval-decided": (_approval_decided, True),
    "approval-approved": (_approval_approved, False),
    "approval-not-started": (_approval_not_started, False),
    "approval-expired": (_approval_expired, False),
    "locks": (_locks, False),
    "freezes": (_freezes, False),
    "result-events": (lambda _: [format_event(event) for event in _events()], False),
    "announced": (lambda _: _announced(), False),
}

BUILDERS: dict[str, tuple[str, ...]] = {
    # every function that builds a `SlackMessage` → the cases that drive it
    "shared.slack.messages:error_message": ("refusal", "approval-not-started"),
    "shared.slack.messages:acknowledgement": ("acknowledgement", "approval-approved"),
    "shared.slack.messages:answer": ("answer",),
    "shared.slack.messages:help_overview": ("help",),
    "shared.slack.messages:help_for": ("help",),
    "chalicelib.confirming:prompt": ("restore-prompt",),
    "chalicelib.status:status_message": ("status",),
    "chalicelib.history:history_message": ("history",),
    "chalicelib.whoami:whoami_message": ("whoami",),
    "shared.slack.approvals:approval_request": ("approval-request",),
    "shared.slack.approvals:sent_for_approval": ("approval-sent",),
    "shared.slack.approvals:approval_expired": ("approval-end", "approval-expired"),
    "shared.slack.approvals:approval_reminder": ("approval-end",),
    "shared.slack.approvals:decision_dm": ("approval-end",),
    "chalicelib.approval_clicks:_not_started": ("approval-not-started",),
    "chalicelib.approval_clicks:_decided_message": ("approval-decided", "approval-approved"),
    "chalicelib.approval_clicks:_private": ("approval-decided",),
    "chalicelib.approval_clicks:_in_channel": ("approval-decided", "approval-expired"),
    "chalicelib.locking:lock_target": ("locks",),
    "chalicelib.locking:unlock_target": ("locks",),
    "chalicelib.locking:show_locks": ("locks",),
    "chalicelib.freezing:freeze_env": ("freezes",),
    "chalicelib.freezing:show_freezes": ("freezes",),
    "chalicelib.freezing:unfreeze_env": ("freezes",),
    "services.notifier.messages:parent_message": ("announced",),
    "services.notifier.messages:thread_reply": ("announced",),
    "services.notifier.messages:_interim": ("result-events", "announced"),
    "services.notifier.messages:_final": ("result-events", "announced"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_message_carries_a_hostile_value_raw_in_its_text_or_its_blocks(world: World, case: str) -> None:
    build, shows_in_text = CASES[case]
    messages = build(world)
    shown = "".join(check_message(message) for message in messages)
    assert ESCAPED in shown, "the hostile value never reached these messages: the case tests nothing"
    if shows_in_text:  # the builder puts the value in the fallback text (issue 19: confirming.py, status.py)
        assert ESCAPED in messages[0].text, messages[0].text


# --- the guard: every builder has a case ---------------------------------------------------------------------


def _module(path: Path) -> str:
    relative = path.relative_to(REPO).with_suffix("")
    parts = relative.parts[1:] if relative.parts[0] == "ingress" else relative.parts  # `chalicelib` is top-level
    return ".".join(parts)


def _builds_a_message(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function's own body (not a nested function's) calls `SlackMessage(...)`."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            called = node.func
            if (isinstance(called, ast.Name) and called.id == "SlackMessage") or (
                isinstance(called, ast.Attribute) and called.attr == "SlackMessage"
            ):
                return True
        pending.extend(ast.iter_child_nodes(node))
    return False


def discovered_builders() -> set[str]:
    found = set()
    for root in ("ingress/chalicelib", "services", "shared", "tools"):
        for path in sorted((REPO / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _builds_a_message(node):
                    found.add(f"{_module(path)}:{node.name}")
    return found


def test_every_builder_has_a_hostile_case() -> None:
    found = discovered_builders()
    assert len(found) >= 15  # the scan itself works
    missing = sorted(found - set(BUILDERS))
    assert not missing, f"builds a SlackMessage without a hostile case here: {missing} (add one to CASES)"
    gone = sorted(set(BUILDERS) - found)
    assert not gone, f"no longer builds a SlackMessage: {gone} (remove it from BUILDERS)"
    assert {case for cases in BUILDERS.values() for case in cases} <= set(CASES)


# --- the services' own mrkdwn: every public function of their message modules ---------------------------------

MESSAGE_MODULES = (deploy_messages, backup_messages, slack_messages)
MRKDWN_ARGUMENTS = {"lines", "notes", "footer", "access", "marks"}
"""Parameters that take mrkdwn already escaped by their caller: given `EVIL_SHOWN`, never `EVIL`."""
PLAIN_RESULTS = {"services.backup.messages:backed_up": (1,)}
"""Parts of a result that are plain text (an event's `output`, escaped by the code block that shows it)."""
CHOSEN = {"services.backup.messages:activity": {"command": "restore"}}
"""Arguments that pick the branch which shows the others (only a restore is announced)."""


def _hostile(annotation: Any, name: str) -> Any:
    """A value of `annotation` made of `EVIL` wherever it holds text (models and dataclasses field by field)."""
    if name in MRKDWN_ARGUMENTS:
        return [EVIL_SHOWN] if typing.get_origin(annotation) is list else EVIL_SHOWN
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return _hostile(next(each for each in arguments if each is not type(None)), name)
    if origin is Literal:
        return arguments[0]
    if origin in (list, tuple):
        return origin([_hostile(arguments[0], name)])
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        return {"from": EVIL, "db": EVIL}
    simple: dict[Any, Any] = {str: EVIL, object: EVIL, bool: False, int: 3, float: 3.0, datetime: START}
    if annotation in simple:
        return simple[annotation]
    return _hostile_instance(annotation, name)


def _hostile_instance(annotation: Any, name: str) -> Any:
    if not inspect.isclass(annotation):
        raise AssertionError(f"no hostile value for {annotation!r} ({name}): teach `_hostile` this type")
    if issubclass(annotation, Exception):
        return JenkinsUnavailableError(EVIL) if issubclass(annotation, JenkinsError) else RuntimeError(EVIL)
    if issubclass(annotation, BaseModel):
        fields = annotation.model_fields
        return annotation.model_construct(**{key: _hostile(field.annotation, key) for key, field in fields.items()})
    if dataclasses.is_dataclass(annotation):
        hints = typing.get_type_hints(annotation)
        return annotation(
            **{each.name: _hostile(hints[each.name], each.name) for each in dataclasses.fields(annotation)}
        )
    raise AssertionError(f"no hostile value for {annotation!r} ({name}): teach `_hostile` this type")


def _returns_text(function: Callable[..., Any]) -> bool:
    """A string, or a tuple of strings (reason and hint); `SlackMessage` builders are the cases above."""
    returned = typing.get_type_hints(function).get("return")
    if returned is str:
        return True
    return typing.get_origin(returned) is tuple and all(part in (str, Ellipsis) for part in typing.get_args(returned))


def _message_functions() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for module in MESSAGE_MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_") and _returns_text(function):
                found.append((f"{module.__name__}:{name}", function))
    return found


@pytest.mark.parametrize(("name", "function"), _message_functions(), ids=[name for name, _ in _message_functions()])
def test_the_services_mrkdwn_escapes_every_outside_value(name: str, function: Callable[..., Any]) -> None:
    hints = typing.get_type_hints(function)
    arguments = {key: _hostile(hints[key], key) for key in inspect.signature(function).parameters}
    result = function(**(arguments | CHOSEN.get(name, {})))
    parts = result if isinstance(result, tuple) else (result,)
    shown = ""
    for index, part in enumerate(parts):
        if index not in PLAIN_RESULTS.get(name, ()):
            check_shown(name, part)
            shown += part
    takes_text = any(hint in (str, object) for key, hint in hints.items() if key != "return")
    assert ESCAPED in shown or not takes_text, f"{name} did not show the hostile value: the case tests nothing"


def test_the_message_modules_are_found() -> None:
    names = {name for name, _ in _message_functions()}
    assert {
        "services.deploy.messages:locked",
        "services.backup.messages:busy",
        "shared.slack.messages:misconfigured",
    } <= names
    assert len(names) >= 30
