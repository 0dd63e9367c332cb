"""The deploy service's errors; `messages.py` is the one place that turns them into what the user reads."""

from __future__ import annotations

from shared.errors import SlashopsError
from shared.pipeline import DeliverAgain


class DeployError(SlashopsError):
    """Base of every deploy-service error."""

    title = "Deploy failed"


class JenkinsError(DeployError):
    """Jenkins did not do what was asked. `retryable` (default False) says whether trying again later can help."""


class JenkinsAuthError(JenkinsError):
    """401/403: the user or API token is wrong, or lacks the Build/Cancel permission on the job."""

    title = "Jenkins refused the credentials"


class JenkinsNotFoundError(JenkinsError):
    """404: the job (or build, or queue item) does not exist."""

    title = "Jenkins job not found"


class JenkinsSetupError(JenkinsError):
    """slashops itself has no usable Jenkins credentials (environment or secret missing or malformed).

    The detail (which variable or secret) is logged under `incident` where the problem was found; users read the id.
    """

    title = "Jenkins is not configured"

    def __init__(self, message: str, *, incident: str) -> None:
        super().__init__(message)
        self.incident = incident


class JenkinsUnavailableError(JenkinsError):
    """5xx, timeouts, refused connections: Jenkins may answer if asked again later."""

    title = "Jenkins is unavailable"
    retryable = True


class JenkinsProtocolError(JenkinsError):
    """Jenkins answered something python-jenkins could not understand (e.g. no queue `Location`)."""

    title = "Unexpected answer from Jenkins"


class ClaimBusyError(DeployError, DeliverAgain):
    """Another delivery of the same command holds a fresh claim: retry later (via SQS), never report."""

    title = "Deploy in progress"
