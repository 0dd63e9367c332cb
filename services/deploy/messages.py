"""The one place that decides what the user reads about a deploy: errors and build results as text.

Every function takes plain values (records, Jenkins' error texts, reasons) and returns mrkdwn: each value
is escaped here, once, where it is put into the sentence (`shared.slack.mrkdwn`).
"""

from __future__ import annotations

from datetime import datetime

from services.deploy.errors import (
    JenkinsAuthError,
    JenkinsError,
    JenkinsNotFoundError,
    JenkinsSetupError,
    JenkinsUnavailableError,
)
from services.deploy.models import ClaimRecord, TargetHold
from shared.commands.validators import REF_CHARACTERS_SHOWN
from shared.errors import ConfigurationError
from shared.events.models import Link
from shared.incidents import open_incident
from shared.locks.models import Lock
from shared.slack.messages import misconfigured
from shared.slack.mrkdwn import code, mention, text


def what(record: ClaimRecord) -> str:
    return f"{code(record.branch)} of *{text(record.client)}* to *{text(record.env)}*"


def activity(record: ClaimRecord) -> str:
    """What the deploy does, as its channel message reads after the starter's mention and "is" / "was"."""
    return f"deploying {what(record)}"


def jenkins_failure(error: JenkinsError, record: ClaimRecord) -> str:
    """A failure reason that says what to fix."""
    if isinstance(error, JenkinsAuthError):  # what to fix names variables and secrets: the admins' logs only
        detail = (
            f"Jenkins refused slashops' credentials ({error.message}) for job {record.job}: check the Jenkins user "
            "and API token (JENKINS_USER/JENKINS_API_TOKEN, or the JENKINS_SECRET_ID secret) and that this user has "
            "the Build and Cancel permissions on the job."
        )
        incident = open_incident(ConfigurationError(detail), where="deploy service", command_id=record.command_id)
        return f"Jenkins refused slashops' credentials ({text(error.message)}): {misconfigured(incident)}"
    if isinstance(error, JenkinsNotFoundError):
        return (
            f"Jenkins has no job {code(record.job)}. To fix: create the job, or name the right one in the slashops "
            f"configuration (`deploy.job`, or {code(f'deploy.clients.{record.client}.job')})."
        )
    if isinstance(error, JenkinsSetupError):  # the detail names variables and secrets: the admins' logs only
        return f"slashops cannot log in to Jenkins: {misconfigured(error.incident)}"
    if isinstance(error, JenkinsUnavailableError):
        return f"Jenkins is unavailable ({text(error.message)}); gave up after retrying. Try again later."
    return f"Jenkins gave an unexpected answer ({text(error.message)})."


def build_link(number: int | None, url: str | None) -> tuple[Link, ...]:
    """The build's link, once Jenkins has given it a number and a URL."""
    return (Link(label=f"Build #{number}", url=url),) if number and url else ()


def ended_links(number: int, url: str | None) -> tuple[Link, ...]:
    """A failed or aborted build's links: the build, then its full console log (where the tail shown comes from)."""
    if not url:
        return ()
    return (*build_link(number, url), Link(label="Full log", url=url.rstrip("/") + "/console"))


def unknown_client(client: str, known: tuple[str, ...]) -> tuple[str, str]:
    listed = ", ".join(map(text, known))
    hint = f"Configured clients: {listed}." if known else "No client is configured for deploys yet."
    return f"Unknown client {code(client)}.", hint


def branch_refused(client: str, branch: str, problem: str) -> tuple[str, str]:
    """A branch outside its client's alphabet (the ingress checks it too; the configuration may have changed)."""
    return (
        f"Branch {code(branch)} cannot be deployed for {code(client)}: it {text(problem)}.",
        f"Branches may use {text(REF_CHARACTERS_SHOWN)}; an admin can allow more for this client with "
        f"{code(f'deploy.clients.{client}.branch_characters')}.",
    )


def too_old(requested_at: datetime) -> str:
    return (
        f"This deploy was requested at {requested_at:%Y-%m-%d %H:%M} UTC and never started; it is too old to "
        "run now. Run `/ops deploy` again if it is still wanted."
    )


def queued(record: ClaimRecord) -> str:
    return f"Deploy of {what(record)} queued in Jenkins (job {code(record.job)})."


def started(record: ClaimRecord, number: int) -> str:
    return f"Build #{number} of {code(record.job)} started for {what(record)}."


def succeeded(record: ClaimRecord, number: int) -> str:
    return f"Deployed {what(record)}: build #{number} succeeded."


def aborted(record: ClaimRecord, number: int | None) -> str:
    """A cancelled deploy: who stopped it (or that it was stopped in Jenkins, not through slashops)."""
    by = f" by {mention(record.cancelled_by)}" if record.cancelled_by else " in Jenkins (not through slashops)"
    if number is None:
        return f"Deploy of {what(record)} was cancelled{by} before its build started."
    return f"Build #{number} of {what(record)} was cancelled{by}."


def failed(record: ClaimRecord, number: int, result: str, unreadable: JenkinsError | None = None) -> str:
    """The build's result; when Jenkins did not return its console, that it did not (the full log link remains)."""
    reason = f"Build #{number} of {what(record)} finished with {text(result)}."
    if unreadable is not None:  # a setup error's detail names secrets: the admins' logs only
        why = "" if isinstance(unreadable, JenkinsSetupError) else f" ({text(unreadable.message)})"
        reason += f" Jenkins did not return its console{why}: see the full log."
    return reason


def gave_up_following(record: ClaimRecord, number: int | None, why: str) -> str:
    build = f"build #{number}" if number else "the build"
    return f"Stopped following {build} of {what(record)}: {text(why)}. Check Jenkins for its result."


def freezes_unreadable(env: str) -> tuple[str, str]:
    """The lock table, which keeps ad-hoc freezes, did not answer on the last delivery: nothing started."""
    return (
        f"slashops could not check whether {code(env)} is frozen (the lock table did not answer), so the deploy was "
        "not started.",
        "Nothing was started. Try again in a few minutes.",
    )


def locked(lock: Lock) -> tuple[str, str]:
    """A deploy into another user's lock (or one whose lock could not be read: `holder` empty); nothing started."""
    target = f"{code(lock.client)} {code(lock.env)}"
    if not lock.holder:
        return (
            f"slashops could not check whether {target} is locked (the lock table did not answer), so the deploy "
            "was not started.",
            "Nothing was started. Try again in a few minutes.",
        )
    return (
        f"{target} is locked by {mention(lock.holder)} until {lock.until}: {text(lock.reason)}",
        f"The deploy was not started. Ask {mention(lock.holder)}, or wait until then; `/ops locks` lists every lock.",
    )


def target_busy(holder: TargetHold, *, now: int) -> tuple[str, str]:
    """A second deploy of a client's environment while one runs (the client does not allow overlap)."""
    return (
        f"{code(holder.client)} is already being deployed to *{text(holder.env)}*: deploy {code(holder.command_id)} "
        f"by {mention(holder.requested_by)}, started {ago(now - holder.since)}. Nothing was started.",
        f"`/ops status {text(holder.command_id)}` follows it; `/ops cancel {text(holder.command_id)}` stops it. "
        "Deploy again once it has finished.",
    )


def ago(seconds: int) -> str:
    """How long ago, as someone reading at 3 a.m. would say it."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min ago" if minutes else f"{hours} h ago"
