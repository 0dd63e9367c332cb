"""Read the configuration text (JSON or YAML) into a validated `SlashopsConfig`.

Every problem raises `ConfigurationError` with a message that names the entry, so the operator can
fix the file; callers fail closed on it. The message quotes the file, so it is escaped for Slack here.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from shared.commands.catalog import CATALOG
from shared.config.access import WILDCARD, AccessRule
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError
from shared.slack.mrkdwn import text


def parse_config(text: str, *, origin: str, known_commands: Iterable[str]) -> SlashopsConfig:
    data = _parse_document(text, origin)
    document = _as_sections(data, origin)
    try:
        config = SlashopsConfig.model_validate(document)
    except ValidationError as error:
        raise _error(f"{origin}: {_describe(error, document)}") from error
    _check_commands(config, origin, set(known_commands))
    return config


def _parse_document(text: str, origin: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise _error(f"{origin}: not valid JSON or YAML ({_first_line(error)})") from error
    import yaml  # here, not at import: PyYAML is a tenth of a cold start, and a JSON configuration never needs it

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _error(f"{origin}: not valid JSON or YAML ({_first_line(error)})") from error


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
        name = f" (command {rule.get('command')!r})" if isinstance(rule, dict) and "command" in rule else ""
        rest = ".".join(str(part) for part in loc[2:])
        return f"access rule #{loc[1] + 1}{name}" + (f", field {rest!r}" if rest else "")
    return ".".join(str(part) for part in loc) or "document"


def _problem(detail: Any) -> str:
    if detail["type"] == "extra_forbidden":
        return "unknown key"
    if detail["type"] == "missing":
        return "missing"
    if detail["type"] == "value_error" and "error" in detail.get("ctx", {}):
        return str(detail["ctx"]["error"])  # our own validators' words, without pydantic's "Value error, "
    return str(detail["msg"])


def _safe_index(items: Any, index: int) -> Any:
    return items[index] if isinstance(items, list) and 0 <= index < len(items) else None


def _check_commands(config: SlashopsConfig, origin: str, known: set[str]) -> None:
    for number, rule in enumerate(config.access, start=1):
        if rule.command != WILDCARD and rule.command not in known:
            raise _error(
                f"{origin}: access rule #{number} names unknown command {rule.command!r}"
                f" (known: {', '.join(sorted(known))})"
            )
        problem = _argument_problem(rule)
        if problem is not None:
            field, text = problem
            raise _error(f"{origin}: access rule #{number} (command {rule.command!r}), field {field!r}: {text}")


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
            return f"arguments.{name}", f"{rule.command} has no argument {name!r} (its arguments: {have})"
        choices = argument.choices or (("true", "false") if argument.type == "flag" else None)
        for pattern in patterns:
            if choices and not fnmatch.filter(choices, pattern):
                return f"arguments.{name}", f"{pattern!r} is not one of {', '.join(choices)}"
    return None


def _error(message: str) -> ConfigurationError:
    return ConfigurationError(text(message))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
