from __future__ import annotations

import pytest

from chalicelib.bootstrap import signing_secret_from
from chalicelib.settings import IngressSettings
from shared.errors import ConfigurationError


def test_environment_wins_and_nothing_set_is_a_configuration_error() -> None:
    assert signing_secret_from(IngressSettings.from_env({"SLACK_SIGNING_SECRET": "local"})) == "local"
    with pytest.raises(ConfigurationError, match="no Slack signing secret"):
        signing_secret_from(IngressSettings.from_env({}))
