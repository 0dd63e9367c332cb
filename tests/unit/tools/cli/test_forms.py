"""`slashops submit`'s reading of a form: printed as Slack shows it, filled as Slack fills it (a select only takes one
of its options), on the view the ingress builds (`chalicelib.forms`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.forms import Field  # the ingress' own fields: the CLI reads what the ingress builds
from tools.cli.forms import FormError, form_text, state_values, submission
from tools.cli.local_slack import local_slack_url

VIEW: dict[str, Any] = {
    "id": "V00000001",
    "hash": "abc",
    "type": "modal",
    "callback_id": "ops-form:deploy",
    "private_metadata": json.dumps({"channel_id": "C0LOCAL", "channel_name": "local"}),
    "title": {"type": "plain_text", "text": "Deploy"},
    "submit": {"type": "plain_text", "text": "Deploy"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        Field("client", "Client", ("acme", "globex")).block(),
        Field("env", "Environment", ("staging",), initial="staging").block(),
        Field("branch", "Branch", initial="main", hint="A git branch or tag.").block(),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Runs `/ops deploy` in <#C0LOCAL>"}]},
    ],
}


def test_the_form_is_printed_as_slack_shows_it() -> None:
    assert form_text(VIEW) == (
        "┌ Deploy\n"
        "│ Client [--field client=…]\n│    ( ) acme  ( ) globex\n"
        "│ Environment [--field env=…]\n│    (•) staging\n"
        "│ Branch [--field branch=…]\n│    [main]\n│    A git branch or tag.\n"
        "│   Runs `/ops deploy` in #C0LOCAL\n"
        "└ [Cancel]  [Deploy]"
    )


def test_fields_given_are_sent_as_slack_sends_them_and_the_rest_as_shown() -> None:
    values = state_values(VIEW, {"client": "globex", "branch": "release/2.4"})

    assert values["client"] == {"client": {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": "globex", "emoji": True}, "value": "globex"}}}  # fmt: skip
    assert values["env"]["env"]["selected_option"]["value"] == "staging"
    assert values["branch"] == {"branch": {"type": "plain_text_input", "value": "release/2.4"}}


def test_an_option_the_select_does_not_offer_or_a_field_the_form_has_not_is_refused() -> None:
    with pytest.raises(FormError, match=r"env: 'production' is not offered \(the form offers: staging\)"):
        state_values(VIEW, {"env": "production"})
    with pytest.raises(FormError, match="the form has no field colour"):
        state_values(VIEW, {"colour": "red"})


def test_the_submission_carries_the_view_and_who_submitted() -> None:
    payload = submission(VIEW, state_values(VIEW, {}), user_id="U0DEV1", team_id="T0LOCAL", kind="view_submission")

    assert payload["type"] == "view_submission" and payload["user"]["id"] == "U0DEV1"
    assert payload["view"]["private_metadata"] == VIEW["private_metadata"]
    assert payload["view"]["callback_id"] == "ops-form:deploy" and payload["view"]["id"] == "V00000001"
    assert payload["view"]["state"]["values"]["client"]["client"] == {"type": "static_select", "selected_option": None}


def test_the_local_slack_is_found_from_its_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_API_URL", raising=False)
    assert local_slack_url("http://127.0.0.1:3001/api/") == "http://127.0.0.1:3001"
