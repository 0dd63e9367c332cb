"""The `deploy` configuration section: defaults, the seed format, overrides and template checks."""

from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG
from shared.config.deploy import DeployConfig, DeployPlan
from shared.config.loader import parse_config
from shared.errors import ConfigurationError


def _parse(text: str) -> DeployConfig:
    return parse_config(text, origin="test", known_commands=CATALOG.names()).deploy


def test_seed_access_only_config_gets_the_documented_default() -> None:
    config = _parse('{"command": "deploy", "users": ["U0ABC"]}')

    assert not config.restricted and config.knows("anyone")
    assert config.plan(client="acme", branch="main", env="staging") == DeployPlan(
        job="deploy-acme", parameters={"BRANCH": "main", "ENV": "staging"}
    )
    assert config.command_id_parameter == "SLASHOPS_COMMAND_ID"


def test_a_clients_list_restricts_deploys_to_those_clients() -> None:
    config = _parse("deploy:\n  clients: [acme, globex]\n")

    assert config.client_names() == ("acme", "globex")
    assert config.knows("acme") and not config.knows("umbrella")


def test_an_empty_clients_list_allows_no_client() -> None:
    assert not _parse("deploy:\n  clients: []\n").knows("acme")


def test_overrides_apply_environment_then_client_then_section() -> None:
    config = _parse(
        """
deploy:
  job: ci-{client}-{env}
  parameters: {REF: "{branch}"}
  clients:
    acme: {}
    globex:
      job: globex-pipeline
      environments:
        production: {parameters: {TARGET: prod, REF: "{branch}"}}
"""
    )

    assert config.plan(client="acme", branch="b", env="staging") == DeployPlan(
        job="ci-acme-staging", parameters={"REF": "b"}
    )
    assert config.plan(client="globex", branch="b", env="staging").job == "globex-pipeline"
    assert config.plan(client="globex", branch="b", env="production") == DeployPlan(
        job="globex-pipeline", parameters={"TARGET": "prod", "REF": "b"}
    )


@pytest.mark.parametrize(
    "text",
    [
        "deploy:\n  job: deploy-{customer}\n",
        "deploy:\n  parameters: {BRANCH: '{branch'}\n",
        "deploy:\n  clients: {acme: {environments: {production: {job: '{secret}'}}}}\n",
        "deploy:\n  jobs: x\n",
    ],
)
def test_bad_templates_and_unknown_keys_are_configuration_errors(text: str) -> None:
    with pytest.raises(ConfigurationError, match="deploy"):
        _parse(text)


def test_concurrency_is_opt_in_per_client_and_must_be_a_boolean() -> None:
    config = _parse("deploy:\n  clients:\n    acme: {concurrent: true}\n    globex: {}\n")
    assert config.concurrent("acme") and not config.concurrent("globex") and not config.concurrent("umbrella")
    with pytest.raises(ConfigurationError, match="concurrent"):
        _parse('deploy:\n  clients:\n    acme: {concurrent: "yes"}\n')
