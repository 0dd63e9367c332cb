"""Hostile configurations and deep payloads (issue 19, findings 2 and 6), each case reported to the `tally`.

A configuration is mishandled when it is accepted although a key appears twice, when it is refused with anything
but a `ConfigurationError`, with a message longer than `MESSAGE`, or after more than `SECONDS`; the ingress
mishandles a request when it answers one with an incident (an unexpected exception) or a 5xx, when `help` fails on
a broken configuration, or when a log line is longer than `LOG_LINE`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from shared.commands.catalog import CATALOG
from shared.config.documents import MAX_BYTES
from shared.config.loader import parse_config_uncached
from shared.config.source import CachedConfig, FileConfigText
from shared.errors import ConfigurationError
from tests.reliability.tally import Tally
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.ingress import ingress_deps
from tests.support.ingress import message_text
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers, slash_form

MESSAGE = 400
SECONDS = 3.0
LOG_LINE = 2500
DEEP = 100_000


def _bomb(levels: int = 9) -> str:
    lists = ["&a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    lists += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ",".join(lists) + "]"


HOSTILE = {
    "two effects": "- {command: deploy, users: [U0INTERN], effect: deny, effect: allow}\n",
    "two access sections": "access:\n  - {command: deploy, effect: deny}\naccess:\n  - {command: deploy}\n",
    "json two effects": '{"command": "deploy", "users": ["U0INTERN"], "effect": "deny", "effect": "allow"}',
    "json two access sections": '{"access": [{"command": "deploy", "effect": "deny"}], "access": []}',
    "json escaped duplicate": '{"command": "deploy", "effect": "deny", "\\u0065ffect": "allow"}',
    "quoted duplicate": '- {command: deploy, effect: deny, "effect": allow}\n',
    "alias bomb in command": f"- command: {_bomb()}\n",
    "alias bomb in a section": f"access: [{{command: deploy}}]\nslack: {{groups_ttl: {_bomb()}}}\n",
    "alias loop": "- command: &loop [*loop]\n",
    "alias depth": "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 40)),
    "deep yaml flow": "- command: " + "[" * DEEP + "]" * DEEP + "\n",
    "deep yaml mapping": "a: " + "{b: " * DEEP + "c" + "}" * DEEP + "\n",
    "deep yaml block": "".join(" " * level + "k:\n" for level in range(200)),
    "deep json": "[" * DEEP + "]" * DEEP,
    "deep json unclosed": '{"access": ' + "[" * DEEP,
    "oversized": "- {command: deploy}\n" + "#" * MAX_BYTES,
    "oversized multibyte": "# " + "é" * (MAX_BYTES // 2),
    "sexagesimal": "slack: {groups_ttl: 1" + ":1" * 200_000 + "}\n",
    "long digits yaml": "slack: {groups_ttl: " + "9" * 100_000 + "}\n",
    "long digits json": '{"slack": {"groups_ttl": ' + "9" * 100_000 + "}}",
    "long command": "- command: " + "x" * 900_000 + "\n",
    "long argument name": "- {command: deploy, arguments: {" + "y" * 900_000 + ": [a]}}\n",
    "long user beside an error": "- {command: deploy, users: [" + "z" * 900_000 + "], nope: 1}\n",
    "long client name": "deploy: {clients: {" + "c" * 900_000 + ": {branch_characters: 1}}}\n",
}


@dataclass
class Counted:
    tried: int = 0
    mishandled: set[str] = field(default_factory=set)

    def check(self, name: str, problem: str | None) -> None:
        self.tried += 1
        if problem:
            self.mishandled.add(name)
            raise AssertionError(f"{name}: {problem}")


@pytest.fixture(scope="module")
def counted(tally: Tally) -> Iterator[Counted]:
    counted = Counted()
    yield counted
    tally.inputs(counted.tried, len(counted.mishandled))


def refusal_problem(text: str, *, expect: str | None = None) -> str | None:
    """Why `text` was mishandled by the parser every unit runs, or None if it was refused as it should be."""
    started = time.perf_counter()
    try:
        parse_config_uncached(text, origin="config.yaml", known_commands=CATALOG.names())
    except ConfigurationError as error:
        elapsed = time.perf_counter() - started
        if len(error.message) > MESSAGE:
            return f"a message of {len(error.message)} characters"
        if elapsed > SECONDS:
            return f"refused after {elapsed:.1f}s"
        return None if expect is None or expect in error.message else f"refused with {error.message!r}"
    except BaseException as error:  # noqa: B036 - RecursionError, MemoryError: exactly what this suite looks for
        return f"{type(error).__name__} escaped"
    return "accepted"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_configuration_is_refused_fast_and_briefly(counted: Counted, name: str) -> None:
    counted.check(name, refusal_problem(HOSTILE[name]))


# Duplicate keys anywhere, generated: a document (JSON, or YAML with keys plain where YAML reads them as the same
# string) in which one mapping repeats one of its keys with another value.

KEYS = st.text(alphabet="abcxyz_é \"'#:-\\", min_size=1, max_size=5)
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.none(), st.text(alphabet="ab \"'\\é[]{}", max_size=6))
TREES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, min_size=1, max_size=3),
    max_leaves=12,
)
PLAIN = re.compile(r"[abcxyz_é]+")


def _mappings(value: Any) -> list[dict[str, Any]]:
    found = [value] if isinstance(value, dict) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return found + [mapping for child in children for mapping in _mappings(child)]


def _render(value: Any, yaml: bool, twice: dict[str, Any] | None, extra: tuple[str, Any]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_render(item, yaml, twice, extra) for item in value) + "]"
    if not isinstance(value, dict):
        return json.dumps(value)
    pairs = [*value.items(), *([extra] if value is twice else [])]

    def key(name: str) -> str:
        return name if yaml and PLAIN.fullmatch(name) else json.dumps(name)

    return "{" + ", ".join(f"{key(k)}: {_render(v, yaml, twice, extra)}" for k, v in pairs) + "}"


def test_generated_duplicate_keys_are_always_refused(counted: Counted) -> None:
    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(tree=TREES, yaml=st.booleans(), data=st.data())
    def run(tree: Any, yaml: bool, data: st.DataObject) -> None:
        document = {"root": tree}
        twice = data.draw(st.sampled_from(_mappings(document)))
        repeated = data.draw(st.sampled_from(sorted(twice)))
        rendered = _render(document, yaml, twice, (repeated, data.draw(SCALARS)))
        text = f"doc: {rendered}\n" if yaml else rendered  # YAML: not `{…}` first, which is read as JSON
        counted.check(repr(text), refusal_problem(text, expect="appears twice in one mapping"))

    run()


# The ingress on a hostile configuration, and hostile clicks.


@dataclass
class Harness:
    client: Client
    path: Path
    logs: list[logging.LogRecord]

    def post(self, body: bytes, path: str) -> tuple[int, str]:
        response = self.client.http.post(path, headers=signed_headers(body), body=body)
        return response.status_code, response.body.decode() if isinstance(response.body, bytes) else response.body


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.INFO)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text("- {command: deploy}\n")
    clock = [0.0]

    def tick() -> float:  # every read of the configuration is a new read: each hostile text is parsed at once
        clock[0] += 120
        return clock[0]

    config = CachedConfig(FileConfigText(path), known_commands=CATALOG.names(), ttl_seconds=60, clock=tick)
    deps = ingress_deps(config=config, publisher=RecordingPublisher())
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    logs: list[logging.LogRecord] = []
    handler = _Keep(logs)
    logging.getLogger().addHandler(handler)
    try:
        with Client(app) as client:
            yield Harness(client=client, path=path, logs=logs)
    finally:
        logging.getLogger().removeHandler(handler)


def ingress_problem(
    harness: Harness, body: bytes, path: str, *, help_answer: bool = False, misconfigured: bool = False
) -> str | None:
    harness.logs.clear()
    status, answer = harness.post(body, path)
    if status != 200:
        return f"HTTP {status}"
    text = message_text(json.loads(answer))
    if "unexpected error" in text:
        return f"an incident: {text[:200]}"
    if help_answer and ("misconfigured" in text or "Configuration error" in text):
        return f"help failed: {text[:200]}"
    if misconfigured and "misconfigured" not in text:
        return f"not refused as misconfigured: {text[:200]}"
    longest = max((len(record.getMessage()) for record in harness.logs), default=0)
    return f"a log line of {longest} characters" if longest > LOG_LINE else None


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_ingress_on_each_hostile_configuration_refuses_commands_and_still_helps(
    harness: Harness, counted: Counted, name: str
) -> None:
    harness.path.write_text(HOSTILE[name])
    for text, is_help in (("help", True), ("deploy --client acme --branch main", False)):
        body = urlencode(slash_form(text)).encode()
        problem = ingress_problem(harness, body, "/slack/commands", help_answer=is_help, misconfigured=not is_help)
        counted.check(f"{name}: {text}", problem)


DEEP_PAYLOADS = {
    "array": "[" * DEEP + "]" * DEEP,
    "object": '{"a":' * DEEP + "1" + "}" * DEEP,
    "unclosed": "[" * DEEP,
    "inside a click": json.dumps({**click_payload(), "message": {"blocks": "<deep>"}}).replace(
        '"<deep>"', "[" * DEEP + "]" * DEEP
    ),
    "in a button value": json.dumps(click_payload(value="[" * 1000 + "]" * 1000)),
}


@pytest.mark.parametrize("name", sorted(DEEP_PAYLOADS))
def test_each_deep_payload_is_refused_cleanly(harness: Harness, counted: Counted, name: str) -> None:
    harness.path.write_text("- {command: '*'}\n")
    counted.check(name, ingress_problem(harness, click_body(DEEP_PAYLOADS[name]), "/slack/interactions"))
