"""The ingress' side of the access rules: who the caller is (with their Slack user groups) and whether they may run
a parsed command. The rules themselves and their semantics live in `shared.config.access`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chalicelib.deps import IngressDeps
from chalicelib.errors import AccessRefusedError
from chalicelib.slack_request import SlashCommandRequest
from shared.commands.spec import ArgumentValue, CommandSpec
from shared.config.access import (
    AccessDecision,
    AccessRule,
    Caller,
    decide,
    named_groups,
    named_names,
    restricts_arguments,
)
from shared.deadline import Deadline
from shared.slack.groups import caller_groups
from shared.slack.names import resolve_names


def caller(
    request: SlashCommandRequest,
    rules: Sequence[AccessRule],
    deps: IngressDeps,
    *,
    deadline: Deadline | None,
    command: str | None = None,
) -> Caller:
    """The caller, with the groups they are in among those the rules (for `command`, or all) name, and what the
    user and channel names those rules use stand for.

    Slack is asked only when a rule names a group or a name, within the request's deadline; what Slack could not be
    asked about makes those rules fail closed. The request's own `user_name`/`channel_name` are never matched.
    """
    groups = caller_groups(request.user_id, named_groups(rules, command), deps.groups, deadline=deadline)
    names = resolve_names(named_names(rules, command), deps.names, deadline=deadline)
    return Caller(
        user_id=request.user_id,
        user_name=request.user_name,
        channel_id=request.channel_id,
        channel_name=request.channel_name,
        groups=groups,
        names=names,
    )


def may_run_here(spec: CommandSpec, request: SlashCommandRequest, deps: IngressDeps, *, deadline: Deadline) -> Caller:
    """Before parsing: someone no rule admits to `spec` here (whatever the arguments) is refused without learning
    anything about its arguments. Returns the caller (with their groups) for `authorize`."""
    return admit(spec, request, deps, deadline=deadline)[0]


def admit(
    spec: CommandSpec, request: SlashCommandRequest, deps: IngressDeps, *, deadline: Deadline
) -> tuple[Caller, AccessDecision | None]:
    """`may_run_here`, with the decision on the request itself when no rule covering `spec` looks at arguments
    (decided once, before parsing: it cannot change with them); None: `authorize` decides on the parsed ones."""
    rules = deps.config.get().access
    who = caller(request, rules, deps, deadline=deadline, command=spec.name)
    final = not restricts_arguments(rules, spec.name)
    decision = decide(rules, command=spec.name, caller=who, arguments={} if final else None)
    _refuse_unless_allowed(spec, decision)
    return who, decision if final else None


def authorize(
    spec: CommandSpec,
    arguments: Mapping[str, ArgumentValue],
    who: Caller,
    deps: IngressDeps,
    *,
    decided: AccessDecision | None = None,
) -> AccessDecision:
    """The decision on the parsed request (defaults included, so an omitted `--env` counts as its default);
    `decided`: the one `admit` already took on it (allowed, or it would have raised)."""
    if decided is not None:
        return decided
    decision = decide(deps.config.get().access, command=spec.name, caller=who, arguments=arguments)
    _refuse_unless_allowed(spec, decision)
    return decision


def _refuse_unless_allowed(spec: CommandSpec, decision: AccessDecision) -> None:
    if not decision.allowed:
        raise AccessRefusedError(decision, hint=_hint(spec, decision))


def _hint(spec: CommandSpec, decision: AccessDecision) -> str:
    if decision.slack_not_asked:
        return "Try again in a minute; `/ops whoami` shows what Slack answers and which rules apply to you."
    return (
        f"`/ops whoami` shows which rules apply to you; ask an admin to change the `{spec.name}` rules of the "
        "slashops configuration."
    )


@dataclass(frozen=True)
class Standing:
    """What the caller may run here, command by command (for `help` and `whoami`); None: open to everyone."""

    caller: Caller
    decisions: dict[str, AccessDecision | None]

    def may_run(self, name: str) -> bool:
        decision = self.decisions.get(name)
        return decision is None or decision.allowed


def standing(request: SlashCommandRequest, deps: IngressDeps, *, deadline: Deadline | None) -> Standing:
    """Every command of the catalog decided without arguments (so allow rules' argument limits are reported);
    raises `ConfigurationError` while the configuration is unusable."""
    rules = deps.config.get().access
    who = caller(request, rules, deps, deadline=deadline)
    decisions = {
        spec.name: None if spec.open_to_all else decide(rules, command=spec.name, caller=who) for spec in deps.catalog
    }
    return Standing(caller=who, decisions=decisions)


def describe(decision: AccessDecision | None) -> str:
    """One line of mrkdwn: allowed, allowed with limits, or denied, with the deciding rule's number."""
    if decision is None:
        return "open to everyone"
    held = f"; {decision.describe_held()}" if decision.held else ""
    if decision.limited:
        return f"allowed {decision.describe_limits()} (rule #{decision.rule}){held}"
    if decision.allowed:
        return f"allowed (rule #{decision.rule}){held}"
    rule = f" (rule #{decision.rule})" if decision.rule is not None else " (no rule admits you here)"
    return f"denied{rule} — {decision.reason}"
