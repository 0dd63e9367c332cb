"""Who may run what, where, with which arguments: the access rules and the one function that applies them.

The seed's format (`{"command", "users", "channels"}`) keeps its meaning; rules may also name Slack user
`groups`, restrict `arguments` (shell-style globs over the parsed values, defaults included) and be `deny` rules.
A request is allowed when at least one allow rule matches it and no deny rule does (README "Access
configuration"). `decide` is pure: the caller's groups (`shared.slack.groups`) and what the names in the rules
stand for (`shared.slack.names`) are resolved through Slack beforehand; whatever Slack could not be asked about
makes the rules that need it fail closed.

An identity is a Slack ID. A rule entry that is an ID matches only that ID; an entry that is a name is compared
with the ID Slack resolves it to, never with the user or channel name a request carries (its sender chose it).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from shared.locks.models import DurationError, describe_duration, parse_duration
from shared.slack.groups import GroupDirectory, UserGroup, caller_groups
from shared.slack.mrkdwn import code, mention
from shared.slack.names import NO_NAMES, NameDirectory, NameReferences, Names, matches_any, resolve_names

if TYPE_CHECKING:
    from shared.commands.spec import ArgumentValue
    from shared.config.model import SlashopsConfig
    from shared.deadline import Deadline
    from shared.events.models import CommandRequested

logger = logging.getLogger(__name__)
WILDCARD = "*"
Effect = Literal["allow", "deny"]
SLACK_NOT_ASKED = "Slack could not be asked which user groups you are in or what the names in the rules stand for"
EMPTY = "empty or null — remove the key to admit anyone, or list who"
APPROVAL_DEFAULT_SECONDS = 30 * 60
"""`approval.expires` when the rule does not say: a request waits this long for a decision."""
APPROVAL_MAX_SECONDS = 12 * 3600
"""The longest `approval.expires` allowed: a command runs from when it was typed, and the deploy service never
starts one typed more than 24 hours ago (`max_request_age_seconds`). Past Slack's 30-minute response_url, the
results go through the bot."""
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,40}")


class ApprovalPolicy(BaseModel):
    """`approval: {users: [U0BOB, dev.two], groups: [S0SRE, "@leads"], expires: 30m}` on an allow rule.

    Approvers are users (by ID, user name or email, names resolved through Slack) or Slack user groups (by ID or
    handle), like the rule's own fields. At
    least one approver must be listed: `approval: {}` or empty lists are a configuration error (fail closed), never
    "anyone". `expires` is a duration (`30m`, `2h`, `1d`), at most `APPROVAL_MAX_SECONDS`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    users: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    expires: int = APPROVAL_DEFAULT_SECONDS
    """Seconds (written as a duration in the file)."""

    @field_validator("users", "groups")
    @classmethod
    def _listed(cls, values: tuple[str, ...] | None) -> tuple[str, ...]:
        if not values:
            raise ValueError("empty or null — list who may approve")
        if any(not value.strip() for value in values):
            raise ValueError("entries must not be blank")
        return values

    @field_validator("expires", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, str):
            raise ValueError("a duration such as 30m, 2h or 1d")
        try:
            seconds = parse_duration(value)
        except DurationError as error:
            raise ValueError(str(error)) from error
        if seconds > APPROVAL_MAX_SECONDS:
            raise ValueError(f"at most {describe_duration(APPROVAL_MAX_SECONDS)}")
        return seconds

    @model_validator(mode="after")
    def _someone(self) -> ApprovalPolicy:
        if self.users is None and self.groups is None:
            raise ValueError("list who may approve (`users` and/or `groups`): an approval no one can give fails closed")
        return self

    def admits(self, user_id: str, groups: tuple[UserGroup, ...] | None, names: Names = NO_NAMES) -> bool | None:
        """Whether this user may decide; None when only Slack could tell (a group, a name) and it could not be asked."""
        return _admits(self.users, self.groups, user_id, groups, names)

    def describe(self) -> str:
        """mrkdwn: who may approve — user and group ids as mentions, user names and group handles as code."""
        return describe_approvers(self.users or (), self.groups or ())


def describe_approvers(users: Iterable[str], groups: Iterable[str]) -> str:
    """mrkdwn for a list of approvers, as rules name them (validated ids become mentions, the rest text)."""
    shown = [mention(user) if _is_user_id(user) else code(user) for user in users]
    shown += [
        f"<!subteam^{group}>" if _GROUP_ID.fullmatch(group) else code("@" + group.removeprefix("@")) for group in groups
    ]
    return " or ".join(shown) if len(shown) <= 2 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _is_user_id(value: str) -> bool:
    return mention(value).startswith("<@")


class AccessRule(BaseModel):
    """`{"command": "deploy", "users": ["U0ABC", "example.user"], "channels": ["C0123"]}` and its extensions.

    A missing `users`/`groups` pair admits any user, a missing `channels` any channel, missing `arguments` any
    arguments. Users match by ID, or by a user name or email Slack resolves to their ID; groups by ID (`S…`) or
    handle (`@` optional); channels by ID, or by a name (`#` optional) Slack resolves to the channel's ID.
    `command` may be `*` for every command. A key that is present must list something: `users:` with no value
    (entries commented out) or `[]` is a configuration error, never "anyone" — the rule fails closed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    command: str
    users: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    arguments: dict[str, tuple[str, ...]] | None = None
    effect: Effect = "allow"
    approval: ApprovalPolicy | None = None
    """Requests this allow rule admits are not run until an approver agrees (docs/admins.md "Approvals")."""

    @field_validator("approval", mode="before")
    @classmethod
    def _approval_present(cls, value: Any) -> Any:
        """Runs only for a key present in the file: `approval:` with nothing under it never means "no approval"."""
        if value is None:
            raise ValueError("empty or null — list who may approve (`users`, `groups`), or remove the key")
        return value

    @model_validator(mode="after")
    def _approval_on_allow_only(self) -> AccessRule:
        if self.approval is not None and self.deny:
            raise ValueError("`approval` belongs on allow rules: a deny rule admits no one to approve")
        return self

    @field_validator("users", "groups", "channels")
    @classmethod
    def _listed(cls, values: tuple[str, ...] | None) -> tuple[str, ...]:
        """Runs only for keys present in the file (defaults are not validated): there, None is a mistake."""
        if not values:
            raise ValueError(EMPTY)
        if any(not value.strip() for value in values):
            raise ValueError("entries must not be blank")
        return values

    @field_validator("arguments", mode="before")
    @classmethod
    def _argument_values(cls, values: Any) -> Any:
        """Numbers in YAML (`limit: [10]`) are compared as the text the user typed; an empty list admits no one."""
        if not values:
            raise ValueError("empty or null — remove the key to allow any arguments, or list the allowed values")
        if not isinstance(values, dict):
            return values
        for name, listed in values.items():
            if not isinstance(listed, list | tuple) or not listed:
                raise ValueError(f"{name!r}: list the allowed values (a non-empty list)")
            if any(isinstance(value, str) and not value.strip() for value in listed):
                raise ValueError(f"{name!r}: entries must not be blank")
        return {
            name: [str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, int) else v for v in listed]
            for name, listed in values.items()
        }

    @property
    def deny(self) -> bool:
        return self.effect == "deny"

    @property
    def names_someone(self) -> bool:
        return self.users is not None or self.groups is not None

    def covers(self, command: str) -> bool:
        return self.command in (command, WILDCARD)

    def admits_user(self, caller: Caller) -> bool | None:
        """True or False; None when only Slack could tell (a group, a name) and it could not be asked."""
        if not self.names_someone:
            return True
        return _admits(self.users, self.groups, caller.user_id, caller.groups, caller.names)

    def admits_channel(self, caller: Caller) -> bool | None:
        """True or False; None when the rule names a channel by name and Slack could not be asked what it is."""
        if self.channels is None:
            return True
        return matches_any(self.channels, lambda entry: caller.names.channel(entry, caller.channel_id))

    def admits_arguments(self, arguments: Mapping[str, ArgumentValue]) -> bool:
        """Each listed argument's value (as parsed, defaults included) matches one of its values or globs."""
        for name, patterns in (self.arguments or {}).items():
            value = arguments.get(name.replace("-", "_"))
            if value is None or not any(fnmatch.fnmatchcase(_as_text(value), pattern) for pattern in patterns):
                return False
        return True


def _as_text(value: ArgumentValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _admits(
    users: tuple[str, ...] | None,
    groups: tuple[str, ...] | None,
    user_id: str,
    user_groups: tuple[UserGroup, ...] | None,
    names: Names,
) -> bool | None:
    """Named in `users` (by ID, or by a name Slack resolves to `user_id`) or in one of `groups`; None when neither
    says yes and only Slack could tell (an unresolved name, the caller's groups unknown)."""
    by_user = matches_any(users or (), lambda entry: names.user(entry, user_id))
    if by_user is True or groups is None:
        return by_user
    if user_groups is None:
        return None
    if any(group.named_by(reference) for group in user_groups for reference in groups):
        return True
    return by_user


class Caller(NamedTuple):
    """Who asks and where. `groups`: the user groups (among those the rules name) the caller is in;
    None when Slack could not be asked. `names`: what the names the rules use stand for (resolved through Slack).
    `user_name` and `channel_name` are what the request says, for display only: no rule ever matches them.
    Immutable, built once per request (a tuple: a third of a frozen dataclass' construction time)."""

    user_id: str
    user_name: str
    channel_id: str
    channel_name: str
    groups: tuple[UserGroup, ...] | None = ()
    names: Names = NO_NAMES


@dataclass(frozen=True)
class Limit:
    """One rule's argument conditions: `{argument: (values or globs)}` and the rule's number (1-based)."""

    rule: int
    arguments: Mapping[str, tuple[str, ...]]

    def describe(self) -> str:
        """mrkdwn: `--env staging` and `--branch release/*, main`."""
        return " and ".join(code(f"--{name} {', '.join(values)}") for name, values in self.arguments.items())


@dataclass(frozen=True)
class ApprovalNeed:
    """Rule #`rule` asks for approval of this request, by the approvers its `policy` names.

    `held_because`: set when it is held for another reason than an access rule (a freeze's override,
    `chalicelib.freezing`; `rule` is then 0): mrkdwn, shown in the approval message instead of the rule."""

    rule: int
    policy: ApprovalPolicy
    held_because: str = ""


class AccessDecision(NamedTuple):
    """What `decide` found (immutable; a tuple, as `Caller`). `reason` is mrkdwn (values escaped once), shown to
    users as it is.

    `rule` is the number (1-based, as in the file) of the deciding rule: the deny rule that matched, or the allow
    rule that matched, or None when no rule admits the caller. Asked without arguments (help, whoami), `limits`
    are the alternatives the allow rules leave (any one of them suffices; empty: any arguments) and `exceptions`
    the argument values deny rules forbid the caller.
    """

    allowed: bool
    reason: str = ""
    rule: int | None = None
    limits: tuple[Limit, ...] = ()
    exceptions: tuple[Limit, ...] = ()
    slack_not_asked: bool = False
    """Slack could not be asked for the caller's groups and a rule naming groups was skipped or applied for it."""
    approval: ApprovalNeed | None = None
    """Allowed, but only once approved: which rule asks and who may approve (decided with arguments only)."""
    held: tuple[Limit, ...] = ()
    """Asked without arguments (help, whoami): the approval rules that admit the caller here, with their argument
    conditions (none: every request is held)."""

    @property
    def limited(self) -> bool:
        return self.allowed and bool(self.limits or self.exceptions)

    @property
    def always_held(self) -> bool:
        """Every request the caller may make here is held: a rule asking for approval admits them whatever the
        arguments (any matching approval rule holds a request: fail closed)."""
        return any(not limit.arguments for limit in self.held)

    def describe_held(self) -> str:
        """mrkdwn for help and whoami: "held for approval (rule #2) with `--env production`", or ""."""
        parts = [
            f"rule #{limit.rule}" + (f" with {limit.describe()}" if limit.arguments else "") for limit in self.held
        ]
        return f"held for approval ({' or '.join(parts)})" if parts else ""

    def describe_limits(self) -> str:
        """mrkdwn for help and whoami: "with `--env staging` only", "but not with `--env production`", or ""."""
        parts = []
        if self.limits:
            parts.append("with " + " or ".join(limit.describe() for limit in self.limits) + " only")
        if self.exceptions:
            parts.append("not with " + " or ".join(limit.describe() for limit in self.exceptions))
        return ", but ".join(parts)


def decide(
    rules: Sequence[AccessRule],
    *,
    command: str,
    caller: Caller,
    arguments: Mapping[str, ArgumentValue] | None = None,
) -> AccessDecision:
    """Allowed when at least one allow rule matches and no deny rule does.

    With `arguments` (the parsed values, defaults included) the request is decided; without (help, whoami) the
    answer is whether the caller may run the command here at all, and with which `limits`.
    """
    numbered = [(number, rule) for number, rule in enumerate(rules, start=1) if rule.covers(command)]
    denied = _deny(numbered, command, caller, arguments)
    if isinstance(denied, AccessDecision):
        return denied
    return _allow(numbered, command, caller, arguments, exceptions=denied)


def _deny(
    numbered: list[tuple[int, AccessRule]],
    command: str,
    caller: Caller,
    arguments: Mapping[str, ArgumentValue] | None,
) -> AccessDecision | tuple[Limit, ...]:
    """The first matching deny rule's decision; else the deny rules that would match with other arguments."""
    exceptions = []
    for number, rule in numbered:
        where = rule.admits_channel(caller) if rule.deny else False
        if where is False:
            continue
        who = rule.admits_user(caller)
        if who is False:
            continue
        who = None if where is None else who
        if rule.arguments and arguments is None:
            exceptions.append(Limit(number, dict(rule.arguments)))
            continue
        if arguments is not None and not rule.admits_arguments(arguments):
            continue
        return _denied_by(number, rule, command, arguments, slack_not_asked=who is None)
    return tuple(exceptions)


def _denied_by(
    number: int, rule: AccessRule, command: str, arguments: Mapping[str, ArgumentValue] | None, *, slack_not_asked: bool
) -> AccessDecision:
    where = " in this channel" if rule.channels is not None else ""
    shown = _shown_arguments(rule, arguments)
    reason = f"Access rule #{number} denies you {code(command)}{where}{shown}."
    if slack_not_asked:
        reason += f" {SLACK_NOT_ASKED}, so rules that deny groups apply to you until it can be."
    return AccessDecision(allowed=False, reason=reason, rule=number, slack_not_asked=slack_not_asked)


def _shown_arguments(rule: AccessRule, arguments: Mapping[str, ArgumentValue] | None) -> str:
    if not rule.arguments or arguments is None:
        return ""
    listed = [code(f"--{name} {_as_text(arguments.get(name.replace('-', '_')))}") for name in rule.arguments]
    return " with " + " and ".join(listed)


def _allow(
    numbered: list[tuple[int, AccessRule]],
    command: str,
    caller: Caller,
    arguments: Mapping[str, ArgumentValue] | None,
    *,
    exceptions: tuple[Limit, ...],
) -> AccessDecision:
    allows = [(number, rule) for number, rule in numbered if not rule.deny]
    users = [(number, rule, rule.admits_user(caller)) for number, rule in allows]
    places = {number: rule.admits_channel(caller) for number, rule in allows}
    not_asked = any(who is None for _, _, who in users) or any(where is None for where in places.values())
    here = [(number, rule) for number, rule, who in users if who is True and places[number] is True]
    if arguments is not None:
        matching = [(number, rule) for number, rule in here if rule.admits_arguments(arguments)]
        if matching:
            number = matching[0][0]
            return AccessDecision(
                allowed=True, reason=f"Access rule #{number} admits you.", rule=number, approval=_approval(matching)
            )
    else:
        held = tuple(Limit(number, dict(rule.arguments or {})) for number, rule in here if rule.approval is not None)
        unlimited = [number for number, rule in here if not rule.arguments]
        if unlimited:
            return AccessDecision(
                allowed=True,
                reason=f"Access rule #{unlimited[0]} admits you.",
                rule=unlimited[0],
                exceptions=exceptions,
                held=held,
            )
        if here:
            limits = tuple(Limit(number, dict(rule.arguments or {})) for number, rule in here)
            number = here[0][0]
            reason = f"Access rule #{number} admits you."
            return AccessDecision(
                allowed=True, reason=reason, rule=number, limits=limits, exceptions=exceptions, held=held
            )
    reason = _refusal(command, allows, users, here)
    if not_asked:
        reason += f" {SLACK_NOT_ASKED}, so rules that admit groups do not admit you until it can be."
    return AccessDecision(allowed=False, reason=reason, slack_not_asked=not_asked)


def _approval(matching: list[tuple[int, AccessRule]]) -> ApprovalNeed | None:
    """Fail closed: if any matching allow rule asks for approval, approval is required; the lowest-numbered of
    them names the approvers and the expiry (another rule admitting the same request never waives it)."""
    for number, rule in matching:
        if rule.approval is not None:
            return ApprovalNeed(rule=number, policy=rule.approval)
    return None


def _refusal(
    command: str,
    allows: list[tuple[int, AccessRule]],
    users: list[tuple[int, AccessRule, bool | None]],
    here: list[tuple[int, AccessRule]],
) -> str:
    if here:  # admitted here, but not with these arguments
        options = " or ".join(Limit(number, dict(rule.arguments or {})).describe() for number, rule in here)
        return f"You may run {code(command)} here with {options} only."
    if not allows:
        return f"No one is allowed to run {code(command)} yet."
    if any(who is True for _, _, who in users):
        return f"{code(command)} cannot be run in this channel."
    return f"You are not allowed to run {code(command)}."


def named_groups(rules: Iterable[AccessRule], command: str | None = None) -> set[str]:
    """The group references (IDs or handles) of the rules covering `command` (every rule when None)."""
    return {reference for rule in rules if command is None or rule.covers(command) for reference in rule.groups or ()}


def named_names(rules: Iterable[AccessRule], command: str | None = None) -> NameReferences:
    """The user and channel names (not IDs) the rules covering `command` (every rule when None) use."""
    covering = [rule for rule in rules if command is None or rule.covers(command)]
    return NameReferences.among(
        (user for rule in covering for user in rule.users or ()),
        (channel for rule in covering for channel in rule.channels or ()),
    )


def restricts_arguments(rules: Iterable[AccessRule], command: str) -> bool:
    """Whether a rule covering `command` looks at arguments: without one, no decision on it can depend on them, so
    one decided before parsing (with any arguments) is the decision on the parsed request too."""
    return any(rule.arguments for rule in rules if rule.covers(command))


def may_see_commands_of(rules: Sequence[AccessRule], *, command: str, caller: Caller) -> bool:
    """Whether the caller may see others' `command`s (status, history): some allow rule admits them to run it in
    some channel with some arguments, and no deny rule forbids it to them everywhere. Unknown groups fail closed."""
    covering = [rule for rule in rules if rule.covers(command)]
    if any(rule.deny and rule.admits_user(caller) is not False and _everywhere(rule) for rule in covering):
        return False
    return any(not rule.deny and rule.admits_user(caller) is True for rule in covering)


def may_run_somewhere(
    rules: Sequence[AccessRule], *, command: str, caller: Caller, arguments: Mapping[str, ArgumentValue]
) -> bool:
    """Whether some allow rule admits the caller to `command` with `arguments` in some channel, and no deny rule
    forbids it to them with those arguments everywhere (the Home: the databases a user may back up). Unknown
    groups fail closed."""
    covering = [rule for rule in rules if rule.covers(command) and rule.admits_arguments(arguments)]
    if any(rule.deny and rule.admits_user(caller) is not False and rule.channels is None for rule in covering):
        return False
    return any(not rule.deny and rule.admits_user(caller) is True for rule in covering)


def _everywhere(rule: AccessRule) -> bool:
    return rule.channels is None and rule.arguments is None


def caller_of(request: CommandRequested, groups: tuple[UserGroup, ...] | None, names: Names = NO_NAMES) -> Caller:
    return Caller(
        user_id=request.actor.user_id,
        user_name=request.actor.user_name,
        channel_id=request.place.channel_id,
        channel_name=request.place.channel_name,
        groups=groups,
        names=names,
    )


def identify_caller(
    request: CommandRequested,
    rules: Sequence[AccessRule],
    directory: GroupDirectory | None,
    names: NameDirectory | None,
    *,
    command: str | None = None,
    deadline: Deadline | None = None,
) -> Caller:
    """The caller of `request`, with the groups and names the rules covering `command` (default: the request's) use
    resolved through Slack (asked only when a rule uses one)."""
    command = command or request.command
    groups = caller_groups(request.actor.user_id, named_groups(rules, command), directory, deadline=deadline)
    resolved = resolve_names(named_names(rules, command), names, deadline=deadline)
    return caller_of(request, groups, resolved)


OTHER_WORKSPACE = "This request comes from a Slack workspace this slashops does not serve."


def other_workspace(config: SlashopsConfig, team_id: str) -> AccessDecision | None:
    """A refusal when the configuration pins the workspace (`slack.team_id`) and `team_id` is another one."""
    if config.slack.admits_team(team_id):
        return None
    return AccessDecision(allowed=False, reason=OTHER_WORKSPACE)


def recheck(
    request: CommandRequested,
    config: SlashopsConfig,
    directory: GroupDirectory | None = None,
    *,
    names: NameDirectory | None = None,
    deadline: Deadline | None = None,
) -> AccessDecision:
    """A consumer's second look: the request's caller, channel and arguments against the rules as they are now.

    The ingress checked when the command was typed; this catches rules changed since, and a `CommandRequested`
    that did not come from the ingress naming a user the rules do not admit. A forged event naming an admitted
    user passes: keeping forgeries off the queue is the job of the bus rule (source `slashops.ingress`) and IAM.
    Without a `directory` / `names` (or when Slack fails), rules naming groups / names fail closed; a request from
    another workspace than the pinned `slack.team_id` is refused. A refusal is logged here (who, what, why); the
    consumer tells the user in its own words.
    """
    decision = other_workspace(config, request.actor.team_id)
    if decision is None:
        caller = identify_caller(request, config.access, directory, names, deadline=deadline)
        decision = decide(config.access, command=request.command, caller=caller, arguments=request.arguments)
    if decision.allowed and decision.approval is not None:
        decision = _recheck_approval(request, decision, decision.approval, directory, names, deadline=deadline)
    if not decision.allowed:
        logger.warning(
            "refusing %s: %s may not run %s now (rule %s: %s)",
            request.command_id,
            request.actor.user_id,
            request.command,
            decision.rule,
            decision.reason,
        )
    return decision


def approver_admitted(
    policy: ApprovalPolicy,
    approver_id: str,
    directory: GroupDirectory | None,
    names: NameDirectory | None,
    *,
    deadline: Deadline | None,
) -> bool | None:
    """Whether `approver_id` is among the approvers `policy` names (groups and names resolved through Slack, asked
    only when the policy uses them); None when only Slack could tell and it could not be asked."""
    groups = caller_groups(approver_id, policy.groups or (), directory, deadline=deadline)
    resolved = resolve_names(NameReferences.among(policy.users or (), ()), names, deadline=deadline)
    return policy.admits(approver_id, groups, resolved)


def _recheck_approval(
    request: CommandRequested,
    decision: AccessDecision,
    need: ApprovalNeed,
    directory: GroupDirectory | None,
    names: NameDirectory | None,
    *,
    deadline: Deadline | None,
) -> AccessDecision:
    """A request the rules admit only once approved must carry an approval by someone rule #`need.rule` names now,
    who is not the requester (a `CommandRequested` without one did not come through the ingress' approval)."""
    approval, rule = request.approval, need.rule
    if approval is None:
        reason = f"Access rule #{rule} requires approval by {need.policy.describe()}, and this request carries none."
    elif approval.approver_id == request.actor.user_id:
        reason = f"Access rule #{rule} requires approval by someone else than the requester."
    else:
        admitted = approver_admitted(need.policy, approval.approver_id, directory, names, deadline=deadline)
        if admitted is True:
            return decision
        reason = (
            f"{mention(approval.approver_id)} approved it, but access rule #{rule} now names "
            f"{need.policy.describe()} as approvers."
        )
        if admitted is None:
            reason += f" {SLACK_NOT_ASKED}."
    return AccessDecision(allowed=False, reason=reason, rule=rule, slack_not_asked=False)
