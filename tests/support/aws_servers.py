"""One LocalStack and one moto server for the whole test session, started on first use (a pytest plugin).

Registered for every test folder by `tests/conftest.py`, so the integration, contract and reliability suites
share one of each instead of importing fixtures across folders. Tests point boto3 at them with explicit
endpoints and fake credentials (never the developer's real AWS account).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from tools.local.aws import FAKE_CREDENTIALS, Service, start_localstack, start_moto


@pytest.fixture(scope="session", autouse=True)
def _fake_aws_credentials() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in FAKE_CREDENTIALS}
    os.environ.update(FAKE_CREDENTIALS)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def localstack() -> Iterator[Service]:
    service = start_localstack()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Service]:
    service = start_moto()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def aws(localstack: Service) -> boto3.Session:
    """A boto3 session; pass `endpoint_url=localstack.endpoint` to its clients."""
    return boto3.Session(region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"])
