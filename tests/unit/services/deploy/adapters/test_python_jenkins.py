"""How python-jenkins' exceptions map to the service's errors (the HTTP paths are covered in integration)."""

from __future__ import annotations

import jenkins
import pytest
import requests

from services.deploy.adapters.python_jenkins import _classified
from services.deploy.errors import (
    JenkinsAuthError,
    JenkinsError,
    JenkinsNotFoundError,
    JenkinsProtocolError,
    JenkinsUnavailableError,
)

AUTH_FAILED = "Error in request. Possibly authentication failed"  # python-jenkins says this for 401, 403 and 500


def _http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (
            jenkins.JenkinsException(f"{AUTH_FAILED} [401]: Unauthorized"),
            JenkinsAuthError,
        ),
        (
            jenkins.JenkinsException(f"{AUTH_FAILED} [403]: Forbidden"),
            JenkinsAuthError,
        ),
        (
            jenkins.JenkinsException(f"{AUTH_FAILED} [500]: Server Error"),
            JenkinsUnavailableError,
        ),
        (jenkins.NotFoundException("Requested item could not be found"), JenkinsNotFoundError),
        (jenkins.TimeoutException("Error in request: timed out"), JenkinsUnavailableError),
        (jenkins.EmptyResponseException("Header 'Location' not found"), JenkinsProtocolError),
        (_http_error(502), JenkinsUnavailableError),
        (_http_error(429), JenkinsProtocolError),
        (requests.ConnectionError("refused"), JenkinsUnavailableError),
    ],
)
def test_exceptions_are_classified(raised: Exception, expected: type[JenkinsError]) -> None:
    with pytest.raises(expected), _classified("job 'deploy-acme'"):
        raise raised


def test_only_unavailable_is_retryable() -> None:
    assert JenkinsUnavailableError("x").retryable
    assert not any(cls("x").retryable for cls in (JenkinsAuthError, JenkinsNotFoundError, JenkinsProtocolError))
