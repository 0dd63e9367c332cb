"""The one consumer pipeline: what every command goes through in a consumer before and around its use case.

In order, for each `CommandRequested` a consumer takes: its declaration (the catalog; a command the unit does not
run is dropped) → the configuration as it is now → the caller checked again (workspace, access rules with user
groups and names resolved through Slack, the approval a rule asks for) → the use case, handed an `Authorized`
request. A broken configuration, a refusal and an unexpected error are reported the same way for every command,
so nothing a use case's author can forget is a security check or leaves the user without an answer:
- broken configuration → `failed` naming an incident id (the detail is in the admins' ERROR line);
- refused now → `rejected` (or the command's own `when_refused`: a deploy already claimed carries on);
- an unexpected error → raised for the queue to deliver the message again, and on the last delivery `failed`
  naming an incident id (the traceback is logged under it); `DeliverAgain` (the work is in hand elsewhere) is
  only ever raised again.

Decoding the message and binding its command id to the logs stay with each unit's entrypoint (a Lambda batch, the
backup worker's loop), which hands the request here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from shared.commands.catalog import CATALOG, Catalog
from shared.config.access import other_workspace, recheck
from shared.errors import ConfigurationError
from shared.incidents import open_incident
from shared.slack.messages import misconfigured, not_allowed_now
from shared.slack.mrkdwn import code

if TYPE_CHECKING:
    from shared.config.model import SlashopsConfig
    from shared.config.port import ConfigPort
    from shared.events.models import CommandRequested
    from shared.events.reporter import CommandReporter
    from shared.slack.groups import GroupDirectory
    from shared.slack.names import NameDirectory

logger = logging.getLogger(__name__)


class AccessDeps(Protocol):
    """What the pipeline reads from a unit's dependencies to check a caller again."""

    @property
    def config(self) -> ConfigPort: ...
    @property
    def groups(self) -> GroupDirectory | None: ...
    @property
    def names(self) -> NameDirectory | None: ...


@dataclass(frozen=True)
class Authorized:
    """A request the pipeline let through: the caller passed the rules as they are now (`config`), with its
    approval when a rule asks for one. Use cases take this, never a bare `CommandRequested`."""

    request: CommandRequested
    config: SlashopsConfig


class DeliverAgain(Exception):  # noqa: N818 - a signal to the queue, not a failure
    """Raised for the queue to deliver the message again because the work is in hand elsewhere (another delivery
    holds its claim): never reported as a failure, not even on the last delivery — that would be untrue."""


Refused = Callable[[str, str], None]
"""What to do with a refusal (reason, hint): by default, report the command rejected."""


def admit(
    request: CommandRequested,
    deps: AccessDeps,
    reporter: CommandReporter,
    *,
    where: str,
    refused: Refused | None = None,
    catalog: Catalog = CATALOG,
) -> Authorized | None:
    """The request, authorized; None when the user has been told why nothing runs (or `refused` was called)."""
    try:
        config = deps.config.get()
    except ConfigurationError as error:
        incident = open_incident(error, where=where, command_id=request.command_id)
        reporter.failed(misconfigured(incident, request.command), retryable=True)
        return None
    if not _allowed(request, config, deps, catalog):
        (refused or reporter.rejected)(*not_allowed_now(request.actor.user_id, request.command))
        return None
    return Authorized(request=request, config=config)


def _allowed(request: CommandRequested, config: SlashopsConfig, deps: AccessDeps, catalog: Catalog) -> bool:
    """The rules as they are now; a command declared open to all (the use case decides, as `cancel`) only needs
    to come from the workspace the configuration pins."""
    spec = catalog.get(request.command)
    if spec is not None and spec.open_to_all:
        return other_workspace(config, request.actor.team_id) is None
    return recheck(request, config, deps.groups, names=deps.names).allowed


def run_admitted(
    request: CommandRequested,
    deps: AccessDeps,
    reporter: CommandReporter,
    run: Callable[[Authorized], None],
    *,
    where: str,
    last_attempt: bool,
    refused: Refused | None = None,
) -> None:
    """`admit`, then `run`; an unexpected error is raised again for a redelivery, and reported on the last one."""
    authorized = admit(request, deps, reporter, where=where, refused=refused)
    if authorized is None:
        return
    try:
        run(authorized)
    except DeliverAgain:
        raise
    except Exception:
        if not last_attempt:
            raise
        incident = uuid.uuid4().hex[:8]
        logger.exception(
            "UNEXPECTED ERROR on the last delivery (incident %s): reported failed",
            incident,
            extra={"incident": incident, "where": where, "command_id": request.command_id},
        )
        reporter.failed(unexpected(incident, request.command), retryable=True)


def unexpected(incident: str, command: str) -> str:
    """The one text for an error nobody foresaw: what happened to the command, and the id the admins' logs hold."""
    return (
        f"slashops hit an unexpected error running {code(command)} and gave up after retrying; it may have done "
        f"part of its work — check before running it again (incident {code(incident)})."
    )
