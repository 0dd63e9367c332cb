"""`/ops whoami`: who slashops thinks you are, and what the access rules let you run in this channel, and why.

The answer an admin and a user both need when a command is refused: the caller's user ID and name, the user
groups Slack says they are in (only those the rules name are looked up), the channel, and per command: allowed,
allowed with limits, or denied — with the number of the rule that decides. And the freezes (open now, or opening
within a day) of the environments the caller may deploy to: what would stop their deploy.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from chalicelib.access import Standing, describe, standing
from chalicelib.deps import IngressDeps
from chalicelib.freezing import affecting
from chalicelib.models import Command
from shared.config.access import AccessDecision
from shared.slack.blocks import SlackMessage, context, header, section
from shared.slack.mrkdwn import channel, code, mention, text

ICONS = {"open": ":large_blue_circle:", "allowed": ":white_check_mark:", "limited": ":large_yellow_circle:"}


def show_whoami(command: Command, deps: IngressDeps) -> SlackMessage:
    found = standing(command.request, deps, deadline=command.verified.deadline)
    envs = deploy_environments(found, deps)
    return whoami_message(found, deps, freezes=affecting(envs, deps, command) if envs else ())


def deploy_environments(found: Standing, deps: IngressDeps) -> list[str]:
    """The environments the access rules let the caller deploy to here (for some client and branch)."""
    spec = deps.catalog.get("deploy")
    env = next((argument for argument in spec.arguments if argument.dest == "env"), None) if spec else None
    if env is None or not env.choices:
        return []
    return [choice for choice in env.choices if _may_deploy_to(found.decisions.get("deploy"), choice)]


def _may_deploy_to(decision: AccessDecision | None, env: str) -> bool:
    """Decided without arguments: an allow rule that leaves `env` open (or lists it), and no deny rule on the
    environment alone."""
    if decision is None:
        return True
    if not decision.allowed:
        return False
    for limit in decision.exceptions:
        if set(limit.arguments) == {"env"} and _matches(env, limit.arguments["env"]):
            return False
    return not decision.limits or any(
        "env" not in limit.arguments or _matches(env, limit.arguments["env"]) for limit in decision.limits
    )


def _matches(value: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


def whoami_message(found: Standing, deps: IngressDeps, *, freezes: Sequence[str] = ()) -> SlackMessage:
    who = found.caller
    lines = [
        f"*You* {mention(who.user_id)} — {code(who.user_id)}{_named_as(found)}",
        f"*User groups* {_groups(found)}",
        f"*Channel* {channel(who.channel_id)} — {code(who.channel_id)}",
    ]
    commands = [
        f"{_icon(found, spec.name)} `{spec.name}` — {describe(found.decisions[spec.name])}" for spec in deps.catalog
    ]
    return SlackMessage(
        text=f"whoami: {text(who.user_id)} in {text(who.channel_id)}",
        blocks=(
            header("/ops whoami"),
            section("\n".join(lines)),
            section("*What you may run in this channel*\n" + "\n".join(commands)),
            *((section("*Freezes that affect your deploys*\n" + "\n".join(freezes)),) if freezes else ()),
            context("Rule numbers count the access rules from 1, in the order of the slashops configuration."),
        ),
    )


def _named_as(found: Standing) -> str:
    """The names in the rules Slack says are the caller (a rule's `users: [dev.two]`); the name a request carries
    is never shown as who you are: its sender chose it."""
    resolved = found.caller.names.users or {}
    names = sorted(name for name, user_id in resolved.items() if user_id == found.caller.user_id)
    return f"; named in the rules as {', '.join(code(name) for name in names)}" if names else ""


def _groups(found: Standing) -> str:
    groups = found.caller.groups
    if groups is None:
        return (
            ":warning: Slack could not be asked, so rules that name groups do not admit you (and deny rules do apply)."
        )
    if not groups:
        return "none of the groups the rules name"
    return ", ".join(f"{code(group.id)} ({text('@' + group.handle)})" for group in groups)


def _icon(found: Standing, name: str) -> str:
    decision = found.decisions[name]
    if decision is None:
        return ICONS["open"]
    if not decision.allowed:
        return ":no_entry:"
    return ICONS["limited"] if decision.limited else ICONS["allowed"]
