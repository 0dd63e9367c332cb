from __future__ import annotations

import pytest

from chalicelib.deps import IngressSettings, signing_secret_from
from shared.errors import ConfigurationError


def test_environment_wins_and_nothing_set_is_a_configuration_error() -> None:
    assert signing_secret_from(IngressSettings.from_env({"SLACK_SIGNING_SECRET": "local"})) == "local"
    with pytest.raises(ConfigurationError, match="no Slack signing secret"):
        signing_secret_from(IngressSettings.from_env({}))
