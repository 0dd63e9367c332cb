"""The deploy service's composition root: the one place its real adapters are built, from the environment.

Nothing happens at import: `deploy_deps()` reads the environment and builds the adapters on the first message
(their SDK clients later still, on first use). The wiring points one way: the handler asks this module for the
dependencies; the use cases are found through the catalog (`DeployDeps.catalog`), never by importing a registry.
"""

from __future__ import annotations

import json
from functools import cache

from services.deploy.deps import SOURCE, DeployDeps, DeployEnv
from shared.aws.secrets import read_secret
from shared.errors import ConfigurationError


@cache
def deploy_deps() -> DeployDeps:
    return deps_from(DeployEnv.from_env())


def deps_from(env: DeployEnv) -> DeployDeps:
    """The real adapters (imported here, so a use case's import of `DeployDeps` pulls in no SDK)."""
    from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
    from services.deploy.adapters.python_jenkins import PythonJenkinsAdapter
    from services.deploy.adapters.sqs_scheduler import SqsFollowScheduler
    from shared.aws.eventbridge import EventBridgePublisher
    from shared.config.source import cached_config, groups_ttl, names_ttl
    from shared.locks.dynamodb import DynamoDbLockStore
    from shared.slack.sdk_groups import group_directory, name_directory

    if not env.queue_url:
        raise ConfigurationError("SLASHOPS_DEPLOY_QUEUE_URL is not set: builds could not be followed")
    config = cached_config(env.config)
    return DeployDeps(
        jenkins=PythonJenkinsAdapter(_jenkins_url(env), lambda: jenkins_credentials(env), timeout=env.jenkins_timeout),
        store=DynamoClaimStore(env.table),
        scheduler=SqsFollowScheduler(env.queue_url),
        publisher=EventBridgePublisher(env.event_bus, SOURCE),
        config=config,
        groups=group_directory(
            env.slack,
            ttl=lambda: groups_ttl(config),
            timeout=5,
        ),
        names=name_directory(env.slack, ttl=lambda: names_ttl(config), timeout=5),
        settings=env.service,
        locks=DynamoDbLockStore(env.lock_table, read_timeout=5.0),
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
