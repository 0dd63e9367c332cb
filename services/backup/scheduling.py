"""A schedule came due (`ScheduleFired`): find its entry in the configuration as it is now, and make it a command.

The event proves nothing: EventBridge Scheduler (or `make run`'s scheduler) sends it, but so could anything allowed
to put events on the bus. The authorization is the entry itself: a firing runs only when the configuration the worker
reads now has an entry of that name, kind and database (`backup.schedules`); anything else — forged, or stale after
the entry was changed or removed — is refused and logged, and nothing runs. The access rules for users do not apply:
only whoever may change the configuration can write an entry.

An admitted firing becomes a `CommandRequested` like a typed command's: its own command id (derived from the
schedule and the fire time, so a second delivery of one firing is the same command), run by `schedule <name>`,
answered in the entry's channel. It is published (the notifier records it in the ledger: `status`, `history`) and
then run by the same code as a typed command. Its reply target says which results are posted (`failures`, or
`final` when the entry says `notify: always`; never the progress: nobody waits for it). A success is also counted
as the CloudWatch metric the missed-schedule alarm watches (`record_success`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from shared.commands.catalog import Catalog
from shared.config.model import SlashopsConfig
from shared.config.schedules import ScheduledRun
from shared.events.envelope import MalformedEventError
from shared.events.models import SCHEDULER_SOURCE, Actor, CommandRequested, Place, ReplyTarget, ScheduleFired
from shared.pipeline import Authorized

logger = logging.getLogger(__name__)

ACTOR_PREFIX = "schedule "
"""Who runs a scheduled command, as the ledger, `status` and the channel say it: `schedule orders@0 3 * * *`."""
METRIC_NAMESPACE = "slashops"
METRIC_DIMENSION = "Schedule"


def metric_name(kind: str) -> str:
    """`ScheduledBackupSucceeded` (`ScheduledVerifySucceeded`): what the missed-schedule alarm watches."""
    return f"Scheduled{kind.capitalize()}Succeeded"


def fired_in(body: str) -> ScheduleFired | None:
    """The firing an SQS body carries, or None when it carries anything else (left to the command path); raises
    `MalformedEventError` for a `ScheduleFired` whose detail is not one (dropped: retrying cannot help)."""
    try:
        envelope = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(envelope, dict) or envelope.get("detail-type") != ScheduleFired.detail_type:
        return None
    detail = envelope.get("detail")
    try:
        fired = ScheduleFired.model_validate(detail)
    except ValueError as error:
        raise MalformedEventError(f"a ScheduleFired event that does not parse: {error}") from error
    if envelope.get("source") != SCHEDULER_SOURCE:
        logger.warning("a ScheduleFired event from source %r (not %s)", envelope.get("source"), SCHEDULER_SOURCE)
    return fired


def scheduled_runs(config: SlashopsConfig) -> tuple[ScheduledRun, ...]:
    """Every entry that runs on a clock (`backup.schedules`; `kind: verify` entries schedule verifications)."""
    return config.backup.scheduled_runs


def entry_for(fired: ScheduleFired, config: SlashopsConfig) -> ScheduledRun | None:
    """The configured entry this firing names: same name, kind and database; None if there is none now."""
    for entry in scheduled_runs(config):
        if entry.label == fired.schedule and entry.kind == fired.kind and entry.database == fired.database:
            return entry
    return None


def command_id_for(fired: ScheduleFired) -> str:
    """12 hex characters from the schedule and its fire time: every delivery of one firing is one command."""
    key = f"{fired.kind}|{fired.schedule}|{fired.fired_at.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def as_request(fired: ScheduleFired, entry: ScheduledRun, config: SlashopsConfig, catalog: Catalog) -> CommandRequested:
    """The command the entry runs, run by `schedule <name>` and answered in its channel."""
    spec = catalog.get(entry.kind)
    who = f"{ACTOR_PREFIX}{entry.label}"
    return CommandRequested(
        command_id=command_id_for(fired),
        command=entry.kind,
        arguments={"db": entry.database},
        actor=Actor(team_id=config.slack.team_id or "", user_id=who, user_name=who),
        place=Place(channel_id=entry.channel),
        reply_to=ReplyTarget(
            response_url="",
            channel_id=entry.channel,
            user_id=who,
            visibility="in_channel",
            posts="final" if entry.notify == "always" else "failures",
        ),
        requested_at=fired.fired_at,
        long_running=bool(spec and spec.long_running),
        text=f"{entry.kind} --db {entry.database}",
    )


@dataclass(frozen=True)
class Refusal:
    """Why a firing runs nothing (logged; nobody to answer: the event names no user, and may be forged)."""

    reason: str


def admit_firing(fired: ScheduleFired, config: SlashopsConfig, catalog: Catalog, *, unit: str) -> Authorized | Refusal:
    """The firing as an authorized command, or why it is refused."""
    entry = entry_for(fired, config)
    if entry is None:
        configured = ", ".join(sorted(e.label for e in scheduled_runs(config))) or "none"
        return Refusal(
            f"no {fired.kind} schedule {fired.schedule!r} on {fired.database!r} in the configuration now "
            f"(forged, or stale: changed or removed since it was set up; configured: {configured})"
        )
    spec = catalog.get(entry.kind)
    if spec is None or spec.consumer != unit:
        return Refusal(f"schedule {entry.label!r} runs {entry.kind!r}, which this worker does not run")
    return Authorized(request=as_request(fired, entry, config, catalog), config=config)


def record_success(schedule: str, kind: str) -> None:
    """One CloudWatch embedded-metric-format line on stdout: `Scheduled<Kind>Succeeded` = 1, dimension `Schedule`
    = the schedule's AWS name. CloudWatch Logs turns the line into the metric the missed-schedule alarm reads."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric  # only a scheduled success loads it

    with single_metric(
        name=metric_name(kind),
        unit=MetricUnit.Count,
        value=1,
        namespace=METRIC_NAMESPACE,
        default_dimensions={METRIC_DIMENSION: schedule},
    ):
        pass
