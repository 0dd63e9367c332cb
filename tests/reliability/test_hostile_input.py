"""Hostile input against the real ingress pipeline, in process: ≥ 10,000 generated texts and forms per run.

Each request is signed like Slack's and sent through `chalice.test.Client` over `create_app` with fake ports.
Whatever arrives: never a 5xx, never an exception (the ingress would answer with an incident id), every answer
a Slack message (or 401, or the empty ssl_check answer); and nothing accepted carries an argument with a
control, format or bidi character, and no accepted branch leaves its client's alphabet (issue #14, items 3, 4).
"""

from __future__ import annotations

import json
import logging
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app import create_app
from shared.commands.characters import BIDI_CONTROLS, unsafe_character
from shared.events.models import CommandRequested
from shared.slack.mrkdwn import escape
from tests.reliability.tally import Tally
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.slack import SIGNING_SECRET, click_payload, signed_headers, slash_form

CONFIG = json.dumps(
    {
        "access": [{"command": "*"}],
        "deploy": {"clients": {"acme": {}, "initech": {"branch_characters": "+@"}}},
    }
)
BRANCH_ALPHABET = {"acme": "", "initech": "+@"}
CONSERVATIVE = re.compile(r"[A-Za-z0-9/._][A-Za-z0-9/._-]*")
INCIDENT = "hit an unexpected error"

# Every value issue #14 reported as accepted (items 3 and 4): each must be refused.
REPORTED = [
    "deploy --client 'fuzznl\n' --branch main",
    "backups --db 'orders\n'",
    "cancel 'abcdef\n'",
    "history --user 'U123\n'",
    *(
        f"deploy --client acme --branch {shlex.quote(branch)}"
        for branch in ("$(id)", "`id`", "a;b", "a|b", "$HOME", "main\u202e", "feature/\U0001f680")
    ),
]

COMMANDS = ["deploy", "backup", "backups", "restore", "cancel", "status", "history", "help", "Deploy", "deplyo"]
OPTIONS = ["--client", "--branch", "--env", "--db", "--from", "--confirm", "--user", "--command", "--limit", "--mine"]
NASTY = sorted(BIDI_CONTROLS) + ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u200b", "\ufeff"]
VALUES = st.one_of(
    st.sampled_from(["acme", "initech", "main", "release/2.4", "orders", "production", "abcdef123456", "U123"]),
    st.sampled_from(["$(id)", "`id`", "a;b", "a|b", "$HOME", "x+y@z", "a&b", "<!channel>", "<@U1>", "-rf", "a..b"]),
    st.text(max_size=20),
    st.tuples(st.sampled_from(["main", "acme", "orders", "abcdef"]), st.sampled_from(NASTY)).map("".join),
    st.tuples(st.sampled_from(NASTY), st.text(max_size=8)).map("".join),
)
TEMPLATES = [
    "deploy --client {0} --branch {1}",
    "deploy --branch {1} --client {0} --env production",
    "backups --db {0}",
    "restore --db orders --from {0} --confirm {1}",
    "cancel {0}",
    "history --user {0} --command {1}",
]
SHAPED = st.builds(
    lambda template, first, second: template.format(shlex.quote(first), shlex.quote(second)),
    st.sampled_from(TEMPLATES),
    VALUES,
    VALUES,
)
COMMAND_TEXTS = st.one_of(
    SHAPED,
    st.builds(
        lambda command, pairs, tail: " ".join([command, *(f"{o} {shlex.quote(v)}" for o, v in pairs), tail]),
        st.sampled_from(COMMANDS),
        st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=4),
        st.sampled_from(["", "--help", "extra", "'unbalanced", "--env production"]),
    ),
)
TEXTS = st.one_of(st.text(max_size=200), COMMAND_TEXTS, COMMAND_TEXTS.map(escape))
FIELDS = ["team_id", "user_id", "channel_id", "user_name", "channel_name", "response_url", "ssl_check", "command"]
FORMS = st.tuples(TEXTS, st.dictionaries(st.sampled_from([*FIELDS, "x"]), st.text(max_size=40), max_size=4))


@dataclass
class Harness:
    """The app with fake ports, and what it was sent and did."""

    client: Client
    publisher: RecordingPublisher
    tried: int = 0
    mishandled: set[str] = field(default_factory=set)

    def post(self, form: dict[str, str], path: str = "/slack/commands") -> tuple[int, str]:
        body = urlencode(form).encode()
        response = self.client.http.post(path, headers=signed_headers(body), body=body)
        return response.status_code, response.body.decode() if isinstance(response.body, bytes) else response.body

    def check_click(self, form: dict[str, str]) -> list[CommandRequested]:
        """`check` for the Interactivity Request URL."""
        return self.check(form, path="/slack/interactions")

    def check(self, form: dict[str, str], path: str = "/slack/commands") -> list[CommandRequested]:
        """Send one form; raise AssertionError (and remember the input) if the ingress mishandled it."""
        self.tried += 1
        before = len(self.publisher.events)
        try:
            status, body = self.post(form, path)
            problem = _answer_problem(status, body)
            published = [e for e in self.publisher.events[before:] if isinstance(e, CommandRequested)]
            problem = problem or next(filter(None, map(_event_problem, published)), None)
        except Exception as error:  # the test client itself failing counts as mishandled too
            problem, published = f"exception {error!r}", []
        if problem:
            self.mishandled.add(repr(form.get("text", form.get("payload"))))
            raise AssertionError(f"{problem} for {form!r}")
        return published


def _answer_problem(status: int, body: str) -> str | None:
    if status >= 500:
        return f"HTTP {status}"
    if status == 401:
        return None
    if status != 200:
        return f"HTTP {status}"
    if not body:
        return None  # ssl_check
    payload: dict[str, Any] = json.loads(body)
    if not payload.get("text") or payload.get("response_type") not in ("ephemeral", "in_channel"):
        return f"not a Slack message: {body[:200]}"
    if INCIDENT in payload["text"]:
        return f"unexpected exception: {payload['text']}"
    return None


def _event_problem(event: CommandRequested) -> str | None:
    for name, value in event.arguments.items():
        if isinstance(value, str) and (unsafe_character(value) is not None or value != value.strip()):
            return f"published {event.command} with {name}={value!r}"
    if event.command == "deploy":
        branch, client = str(event.arguments["branch"]), str(event.arguments["client"])
        extra = BRANCH_ALPHABET.get(client, "")
        if not CONSERVATIVE.fullmatch(branch.translate(str.maketrans(extra, "a" * len(extra)))):
            return f"published branch {branch!r} for client {client!r}"
    return None


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    publisher = RecordingPublisher()
    deps = ingress_deps(config=StaticConfig.from_text(CONFIG), publisher=publisher)
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    logging.disable(logging.CRITICAL)  # 10,000 refusals logged at INFO would dominate the run
    try:
        with Client(app) as client:
            yield Harness(client=client, publisher=publisher)
    finally:
        logging.disable(logging.NOTSET)


@pytest.fixture(scope="module", autouse=True)
def _record(harness: Harness, tally: Tally) -> Iterator[None]:
    yield
    tally.inputs(harness.tried, len(harness.mishandled))


FUZZ = settings(max_examples=4000, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("text", REPORTED)
def test_every_value_the_issue_reported_is_refused(harness: Harness, text: str) -> None:
    assert harness.check(slash_form(text)) == []
    _, body = harness.post(slash_form(text))
    assert json.loads(body)["text"].startswith("Invalid arguments: `")


def test_a_widened_client_accepts_its_extra_characters_and_nothing_else(harness: Harness) -> None:
    [event] = harness.check(slash_form("deploy --client initech --branch feature+x@2"))
    assert event.arguments["branch"] == "feature+x@2"
    assert harness.check(slash_form("deploy --client acme --branch feature+x")) == []
    assert harness.check(slash_form("deploy --client initech --branch 'a$b'")) == []


def test_generated_texts(harness: Harness) -> None:
    @FUZZ
    @given(text=TEXTS)
    @example(text="deploy --client acme --branch main")
    @example(text="deploy --client acme --branch 'main\u202e'")
    @example(text="deploy --client acme --branch \u202emain")
    @example(text="deploy --client 'acme\u2066' --branch main")
    @example(text="restore --db orders --from 'x\u200e' --confirm orders")
    @example(text="deploy --client acme --branch 'main\u200b'")  # stripped by the tokenizer, as typed in Slack
    @example(text="restore --db orders --from ' ' --confirm orders")
    def run(text: str) -> None:
        harness.check(slash_form(text))

    run()


def test_generated_command_lines(harness: Harness) -> None:
    accepted: set[str] = set()

    @FUZZ
    @given(text=COMMAND_TEXTS)
    def run(text: str) -> None:
        accepted.update(event.command for event in harness.check(slash_form(text)))

    run()
    assert accepted >= {"deploy", "backups", "restore", "cancel"}, "the generator must also produce accepted commands"


def test_generated_forms(harness: Harness) -> None:
    @settings(FUZZ, max_examples=2500)
    @given(form=FORMS)
    def run(form: tuple[str, dict[str, str]]) -> None:
        text, overrides = form
        harness.check(slash_form(text, **overrides))

    run()


CLICK_VALUES = st.one_of(
    st.text(max_size=60),
    st.builds(lambda db, backup: json.dumps({"db": db, "from": backup}), VALUES, VALUES),
)
CLICK_PAYLOADS = st.one_of(
    st.text(max_size=120),
    st.builds(
        lambda action, value, user, drop: json.dumps(
            {k: v for k, v in click_payload(action, value, user_id=user).items() if k != drop}
        ),
        st.sampled_from(["restore.confirm", "deploy.approve", "", "x" * 300]),
        CLICK_VALUES,
        st.sampled_from(["U0ABC", "", "U\n1"]),
        st.sampled_from(["", "user", "actions", "response_url", "channel", "type"]),
    ),
    st.recursive(st.none() | st.booleans() | st.text(max_size=10), lambda inner: st.lists(inner, max_size=3)).map(
        json.dumps
    ),
)


def test_generated_clicks(harness: Harness) -> None:
    """Any signed interaction form: 200 with a Slack message, or 401; never a 5xx or an unexpected exception."""

    @settings(FUZZ, max_examples=500)
    @given(payload=CLICK_PAYLOADS, extra=st.dictionaries(st.sampled_from(["payload", "x"]), st.text(max_size=20)))
    def run(payload: str, extra: dict[str, str]) -> None:
        harness.check_click({**extra, "payload": payload})

    run()
