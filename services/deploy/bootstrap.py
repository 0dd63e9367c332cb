"""Wires the deploy service's real adapters from the environment, once, on first use."""

from __future__ import annotations

import json
from functools import cache

from services.deploy.claims import DynamoClaimStore
from services.deploy.jenkins_adapter import PythonJenkinsAdapter
from services.deploy.scheduler import SqsFollowScheduler
from services.deploy.service import SOURCE, DeployDeps
from services.deploy.settings import DeployEnv
from shared.aws.eventbridge import EventBridgePublisher
from shared.aws.secrets import read_secret
from shared.config.source import cached_config
from shared.errors import ConfigurationError


@cache
def deploy_deps() -> DeployDeps:
    return deps_from(DeployEnv.from_env())


def deps_from(env: DeployEnv) -> DeployDeps:
    if not env.queue_url:
        raise ConfigurationError("SLASHOPS_DEPLOY_QUEUE_URL is not set: builds could not be followed")
    return DeployDeps(
        jenkins=PythonJenkinsAdapter(_jenkins_url(env), lambda: jenkins_credentials(env), timeout=env.jenkins_timeout),
        store=DynamoClaimStore(env.table),
        scheduler=SqsFollowScheduler(env.queue_url),
        publisher=EventBridgePublisher(env.event_bus, SOURCE),
        config=cached_config(env.config_file, env.config_parameter, ttl_seconds=env.config_ttl_seconds),
        settings=env.service,
    )


def jenkins_credentials(env: DeployEnv) -> tuple[str, str]:
    """`JENKINS_USER`/`JENKINS_API_TOKEN` locally; the `JENKINS_SECRET_ID` secret (JSON `user`, `api_token`) in AWS."""
    if env.jenkins_user and env.jenkins_token:
        return env.jenkins_user, env.jenkins_token
    secret = _secret(env)
    user, token = secret.get("user"), secret.get("api_token")
    if not user or not token:
        raise ConfigurationError(f"secret {env.jenkins_secret_id!r} needs string keys 'user' and 'api_token'")
    return str(user), str(token)


def _jenkins_url(env: DeployEnv) -> str:
    url = env.jenkins_url or (str(_secret(env).get("url") or "") if env.jenkins_secret_id else "")
    if not url:
        raise ConfigurationError("no Jenkins URL (JENKINS_URL, or 'url' in the JENKINS_SECRET_ID secret)")
    return url


def _secret(env: DeployEnv) -> dict[str, object]:
    if not env.jenkins_secret_id:
        raise ConfigurationError("no Jenkins credentials (JENKINS_USER/JENKINS_API_TOKEN or JENKINS_SECRET_ID)")
    try:
        data = json.loads(read_secret(env.jenkins_secret_id, what="Jenkins secret"))
    except json.JSONDecodeError as error:
        raise ConfigurationError("the Jenkins secret must be a JSON object") from error
    if not isinstance(data, dict):
        raise ConfigurationError("the Jenkins secret must be a JSON object")
    return data
