"""The one place that decides what the user reads about a deploy: errors and build results as text."""

from __future__ import annotations

from datetime import datetime

from services.deploy.errors import (
    JenkinsAuthError,
    JenkinsError,
    JenkinsNotFoundError,
    JenkinsSetupError,
    JenkinsUnavailableError,
)
from services.deploy.models import ClaimRecord


def what(record: ClaimRecord) -> str:
    return f"`{record.branch}` of *{record.client}* to *{record.env}*"


def jenkins_failure(error: JenkinsError, record: ClaimRecord) -> str:
    """A failure reason that says what to fix."""
    if isinstance(error, JenkinsAuthError):
        return (
            f"Jenkins refused slashops' credentials ({error.message}). To fix: check the Jenkins user and API "
            f"token (JENKINS_USER/JENKINS_API_TOKEN, or the JENKINS_SECRET_ID secret) and that this user has "
            f"the Build and Cancel permissions on job `{record.job}`."
        )
    if isinstance(error, JenkinsNotFoundError):
        return (
            f"Jenkins has no job `{record.job}`. To fix: create the job, or name the right one in the slashops "
            f"configuration (`deploy.job`, or `deploy.clients.{record.client}.job`)."
        )
    if isinstance(error, JenkinsSetupError):
        return f"slashops cannot log in to Jenkins: {error.message}. To fix: set the deploy service's Jenkins settings."
    if isinstance(error, JenkinsUnavailableError):
        return f"Jenkins is unavailable ({error.message}); gave up after retrying. Try again later."
    return f"Jenkins gave an unexpected answer ({error.message})."


def unknown_client(client: str, known: tuple[str, ...]) -> tuple[str, str]:
    hint = f"Configured clients: {', '.join(known)}." if known else "No client is configured for deploys yet."
    return f"Unknown client `{client}`.", hint


def not_allowed(user_id: str, command: str) -> tuple[str, str]:
    return (
        f"<@{user_id}> is not allowed to run `{command}` in this channel (the access rules changed, or the request "
        "did not come from the ingress). Nothing was started.",
        f"Ask an admin to add you to the `{command}` rule of the slashops configuration.",
    )


def too_old(requested_at: datetime) -> str:
    return (
        f"This deploy was requested at {requested_at:%Y-%m-%d %H:%M} UTC and never started; it is too old to "
        "run now. Run `/ops deploy` again if it is still wanted."
    )


def queued(record: ClaimRecord) -> str:
    return f"Deploy of {what(record)} queued in Jenkins (job `{record.job}`)."


def started(record: ClaimRecord, number: int) -> str:
    return f"Build #{number} of `{record.job}` started for {what(record)}."


def succeeded(record: ClaimRecord, number: int) -> str:
    return f"Deployed {what(record)}: build #{number} succeeded."


def aborted(record: ClaimRecord, number: int | None) -> str:
    by = f" by <@{record.cancelled_by}>" if record.cancelled_by else ""
    if number is None:
        return f"Deploy of {what(record)} was cancelled{by} before its build started (aborted)."
    return f"Build #{number} of {what(record)} was aborted{by}."


def failed(record: ClaimRecord, number: int, result: str) -> str:
    return f"Build #{number} of {what(record)} finished with {result}."


def gave_up_following(record: ClaimRecord, number: int | None, why: str) -> str:
    build = f"build #{number}" if number else "the build"
    return f"Stopped following {build} of {what(record)}: {why}. Check Jenkins for its result."
