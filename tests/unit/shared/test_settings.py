"""One way to read a setting: unset, empty and blank all mean the default; a bad number names its variable."""

from __future__ import annotations

import pytest

from shared.config.location import ConfigLocation
from shared.errors import ConfigurationError
from shared.settings import (
    event_bus,
    float_setting,
    int_setting,
    optional_setting,
    queue_url_variable,
    setting,
)
from shared.slack.bot import SlackBot


@pytest.mark.parametrize("env", [{}, {"X": ""}, {"X": "   "}])
def test_unset_empty_and_blank_mean_the_default(env: dict[str, str]) -> None:
    assert setting(env, "X", "default") == "default"
    assert optional_setting(env, "X") is None
    assert int_setting(env, "X", 5) == 5
    assert float_setting(env, "X", 2.5) == 2.5


def test_a_value_is_taken_as_it_is() -> None:
    env = {"X": " spaced ", "N": "7", "F": "0.25"}
    assert setting(env, "X", "default") == optional_setting(env, "X") == " spaced "
    assert (int_setting(env, "N", 1), float_setting(env, "F", 1.0)) == (7, 0.25)


@pytest.mark.parametrize(("read", "text"), [(int_setting, "1.5"), (int_setting, "ten"), (float_setting, "soon")])
def test_a_number_that_is_not_one_is_a_configuration_error_naming_the_variable(read: object, text: str) -> None:
    with pytest.raises(ConfigurationError, match=f"SLASHOPS_TIMEOUT={text!r}"):
        read({"SLASHOPS_TIMEOUT": text}, "SLASHOPS_TIMEOUT", 1)  # type: ignore[operator]


def test_the_shared_settings_read_an_empty_variable_as_unset() -> None:
    empty = {
        "SLASHOPS_EVENT_BUS": "",
        "SLASHOPS_CONFIG": "",
        "SLASHOPS_CONFIG_PARAMETER": "",
        "SLASHOPS_CONFIG_TTL": "",
        "SLACK_API_URL": "",
        "SLACK_BOT_TOKEN": "",
        "SLACK_BOT_TOKEN_SECRET_ID": "",
    }
    assert event_bus(empty) == event_bus({}) == "slashops"
    assert ConfigLocation.from_env(empty) == ConfigLocation.from_env({}) == ConfigLocation()
    assert SlackBot.from_env(empty) == SlackBot.from_env({}) == SlackBot()


def test_each_consumer_reads_its_queue_url_from_one_name() -> None:
    assert queue_url_variable("deploy") == "SLASHOPS_DEPLOY_QUEUE_URL"
    assert queue_url_variable("cdn-purge") == "SLASHOPS_CDN_PURGE_QUEUE_URL"
