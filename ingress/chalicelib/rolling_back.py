"""`/ops rollback --client acme [--env staging]`: deploy again what ran before the current deploy.

The current deploy of a target is its newest *succeeded* one; the rollback goes to the newest succeeded deploy
before it that is still worth going back to: not one a rollback already undid (`rollback_of`), and not the very
branch that runs now. Failed, cancelled and refused deploys never count. It is then a deploy like any other,
typed by the caller as `deploy --client … --branch … --env …`: the same access rules (rules on `deploy` arguments
apply to the branch it goes back to), approvals, locks and one deploy per target, with its own command id.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.consumer import run_command
from chalicelib.deps import IngressDeps
from chalicelib.errors import NothingToRollBackError
from chalicelib.ledger_view import Viewer, require_ledger
from chalicelib.models import Command
from shared.ledger.models import LedgerEntry
from shared.slack.blocks import SlackMessage, context
from shared.slack.mrkdwn import code, mention


@dataclass(frozen=True)
class Rollback:
    """Which deploy runs now on the target, and which one a rollback goes back to."""

    current: LedgerEntry
    target: LedgerEntry


def choose(deploys: Iterable[LedgerEntry], client: str, env: str) -> Rollback | None:
    """From a target's deploys, newest first: the current one and the one to go back to; None if there is none."""
    succeeded = [entry for entry in deploys if _target(entry) == (client, env) and entry.state == "succeeded"]
    if not succeeded:
        return None
    current = succeeded[0]
    undone = {entry.rollback_of for entry in succeeded if entry.rollback_of}
    for entry in succeeded[1:]:
        if entry.command_id not in undone and _branch(entry) != _branch(current):
            return Rollback(current=current, target=entry)
    return None


def roll_back(command: Command, deps: IngressDeps) -> SlackMessage:
    arguments = command.parsed.arguments
    client, env = str(arguments["client"]), str(arguments["env"])
    ledger = require_ledger(deps.ledger)
    viewer = Viewer.of(command, deps)
    deploys = [entry for entry in ledger.iter_recent(command="deploy") if viewer.may_see(entry)]
    chosen = choose(deploys, client, env)
    if chosen is None:
        raise NothingToRollBackError(
            f"{code(client)} {code(env)} has no earlier successful deploy to go back to (none that a rollback has not "
            "already undone and that is not the branch running now): nothing was started.",
            hint="`/ops history --command deploy` lists the deploys slashops remembers (30 days).",
        )
    text = shlex.join(["deploy", "--client", client, "--branch", _branch(chosen.target), "--env", env])
    verified = command.verified._replace(
        request=command.request.model_copy(update={"text": text}), rollback_of=chosen.current.command_id
    )
    answer, _ = run_command(verified, deps, normalized=text)
    note = context(_what_it_goes_back_to(chosen))
    return answer.model_copy(update={"blocks": (note, *answer.blocks)})


def _what_it_goes_back_to(chosen: Rollback) -> str:
    target, current = chosen.target, chosen.current
    build = next((link.label for link in target.links if link.label.lower().startswith("build")), "")
    when = target.updated_at.strftime("%Y-%m-%d %H:%M UTC")
    by = f"{mention(target.user_id)}'s" if target.user_id else "the"
    return (
        f":rewind: Rollback: back to {code(_branch(target))} ({by} deploy {code(target.command_id)}"
        f"{', ' + build if build else ''}, {when}), from {code(_branch(current))} (deploy {code(current.command_id)})."
    )


def _target(entry: LedgerEntry) -> tuple[str, str]:
    return str(entry.arguments.get("client", "")), str(entry.arguments.get("env", "staging"))


def _branch(entry: LedgerEntry) -> str:
    return str(entry.arguments.get("branch", ""))
