"""Read the configuration text (JSON or YAML) into a validated `SlashopsConfig`, once per process and text.

Every problem raises `ConfigurationError` with a message that names the entry, so the operator can
fix the file; callers fail closed on it. The message quotes the file, so it is escaped for Slack here, and
bounded: values are quoted through `documents.quoted`. The text is parsed within `shared.config.documents`' bounds.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from shared.commands.catalog import CATALOG
from shared.config.access import WILDCARD, AccessRule
from shared.config.documents import QUOTED, parse_document, quoted
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError
from shared.slack.mrkdwn import text

MAX_MESSAGE = 1000
"""The longest configuration error, in characters before escaping (its values are quoted shorter still)."""


def parse_config(text: str, *, origin: str, known_commands: Iterable[str]) -> SlashopsConfig:
    """The validated configuration; the same text (from the same origin) is parsed once per process."""
    return _PARSED.get(text, origin=origin, known_commands=known_commands)


def parse_config_uncached(text: str, *, origin: str, known_commands: Iterable[str]) -> SlashopsConfig:
    data = parse_document(text, origin)
    document = _as_sections(data, origin)
    try:
        config = SlashopsConfig.model_validate(document)
    except ValidationError as error:
        raise _error(f"{origin}: {_describe(error, document)}") from error
    _check_commands(config, origin, set(known_commands))
    return config


Parse = Callable[..., SlashopsConfig]


class ParsedConfigs:
    """The outcome (configuration or error) of the last few texts parsed, keyed by the text's SHA-256, its origin and
    the commands it was checked against: each unit re-reads its configuration every TTL (and `make run`'s ingress
    serves requests on threads), but parses a given text once. One parse at a time: a thread that wants the text
    another is parsing waits for that parse rather than starting its own."""

    def __init__(self, parse: Parse = parse_config_uncached, *, size: int = 4) -> None:
        self._parse = parse
        self._size = size
        self._lock = threading.Lock()
        self._outcomes: OrderedDict[tuple[str, str, frozenset[str]], SlashopsConfig | ConfigurationError] = (
            OrderedDict()
        )

    def get(self, text: str, *, origin: str, known_commands: Iterable[str]) -> SlashopsConfig:
        known = frozenset(known_commands)
        key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), origin, known)
        with self._lock:
            outcome = self._outcomes.get(key)
            if outcome is None:
                outcome = self._outcome(text, origin, known)
            self._outcomes[key] = outcome
            self._outcomes.move_to_end(key)
            while len(self._outcomes) > self._size:
                self._outcomes.popitem(last=False)
        if isinstance(outcome, ConfigurationError):
            raise fresh(outcome)
        return outcome

    def _outcome(self, text: str, origin: str, known: frozenset[str]) -> SlashopsConfig | ConfigurationError:
        try:
            return self._parse(text, origin=origin, known_commands=known)
        except ConfigurationError as error:
            return error


def fresh(error: ConfigurationError) -> ConfigurationError:
    """A copy of a kept error to raise: raising one instance again and again would grow its traceback each time."""
    copy = ConfigurationError(error.message, title=error.title, hint=error.hint, retryable=error.retryable)
    copy.__cause__ = error.__cause__
    return copy


_PARSED = ParsedConfigs()


def _as_sections(data: Any, origin: str) -> dict[str, Any]:
    """The seed format (a rule, or a list of rules) becomes `{"access": [...]}`."""
    if isinstance(data, list):
        return {"access": data}
    if isinstance(data, dict) and "command" in data:
        return {"access": [data]}
    if isinstance(data, dict):
        return data
    raise _error(f"{origin}: expected a rule, a list of rules or a mapping of sections")


def _describe(error: ValidationError, document: dict[str, Any]) -> str:
    problems = []
    for detail in error.errors()[:5]:
        location = _location(detail["loc"], document)
        problems.append(f"{location}: {_problem(detail)}")
    more = error.error_count() - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


def _location(loc: tuple[int | str, ...], document: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "access" and isinstance(loc[1], int):
        rule = _safe_index(document.get("access"), loc[1])
        name = f" (command {quoted(rule.get('command'))})" if isinstance(rule, dict) and "command" in rule else ""
        rest = ".".join(str(part) for part in loc[2:])
        return f"access rule #{loc[1] + 1}{name}" + (f", field {quoted(rest)}" if rest else "")
    return _clip(".".join(str(part) for part in loc)) or "document"


def _problem(detail: Any) -> str:
    if detail["type"] == "extra_forbidden":
        return "unknown key"
    if detail["type"] == "missing":
        return "missing"
    if detail["type"] == "value_error" and "error" in detail.get("ctx", {}):
        return _clip(str(detail["ctx"]["error"]))  # our own validators' words, without pydantic's "Value error, "
    return _clip(str(detail["msg"]))


def _safe_index(items: Any, index: int) -> Any:
    return items[index] if isinstance(items, list) and 0 <= index < len(items) else None


def _check_commands(config: SlashopsConfig, origin: str, known: set[str]) -> None:
    for number, rule in enumerate(config.access, start=1):
        if rule.command != WILDCARD and rule.command not in known:
            raise _error(
                f"{origin}: access rule #{number} names unknown command {quoted(rule.command)}"
                f"{_did_you_mean(rule.command, known)} (known: {', '.join(sorted(known))})"
            )
        problem = _argument_problem(rule) or _approval_problem(rule)
        if problem is not None:
            field, text = problem
            where = f"access rule #{number} (command {quoted(rule.command)}), field {quoted(field)}"
            raise _error(f"{origin}: {where}: {text}")


def _did_you_mean(name: str, known: set[str]) -> str:
    import difflib  # only a mistyped configuration asks

    close = difflib.get_close_matches(name.lower(), sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {quoted(close[0])}?" if close else ""


def _approval_problem(rule: AccessRule) -> tuple[str, str] | None:
    """`approval` on a rule covering a command the ingress answers at once (`lock`, `status`…): nothing there waits
    for an approver, so the rule would silently not hold it — refused instead (fail closed)."""
    if rule.approval is None:
        return None
    if rule.command == WILDCARD:
        return "approval", "a rule for every command (`*`) cannot ask for approval; name the commands to hold"
    spec = CATALOG.get(rule.command)
    if spec is not None and spec.handled_by == "ingress":
        return "approval", f"{rule.command} is answered at once and cannot wait for approval"
    return None


def _argument_problem(rule: AccessRule) -> tuple[str, str] | None:
    """An `arguments` entry the command cannot be given: an argument it does not have, a value outside its choices."""
    if not rule.arguments:
        return None
    if rule.command == WILDCARD:
        return "arguments", "a rule for every command (`*`) cannot restrict arguments; name the command"
    spec = CATALOG.get(rule.command)
    if spec is None:
        return None
    for name, patterns in rule.arguments.items():
        argument = next((a for a in spec.arguments if name in (a.name, a.dest)), None)
        if argument is None:
            have = ", ".join(a.name for a in spec.arguments) or "none"
            return f"arguments.{name}", f"{rule.command} has no argument {quoted(name)} (its arguments: {have})"
        choices = argument.choices or (("true", "false") if argument.type == "flag" else None)
        for pattern in patterns:
            if choices and not fnmatch.filter(choices, pattern):
                return f"arguments.{name}", f"{quoted(pattern)} is not one of {', '.join(choices)}"
    return None


def _error(message: str) -> ConfigurationError:
    return ConfigurationError(text(_clip(message, MAX_MESSAGE)))


def _clip(message: str, limit: int = 2 * QUOTED) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
