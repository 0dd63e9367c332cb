"""Reading Slack's form: the ingress' own reader agrees with the standard library's on any body."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.slack_request import parse_form
from tests.support.slack import slash_form

_FORMISH = st.lists(
    st.sampled_from(["a", "=", "&", "+", "%", "20", "%e9", "%C3", "%a9", "%e2%82", "%zz", "é", "\ufffd", "\x00"]),
    max_size=30,
).map("".join)


def stdlib(body: bytes) -> dict[str, str]:
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


@settings(max_examples=500)
@given(body=st.one_of(_FORMISH.map(str.encode), st.binary(max_size=80), st.text(max_size=60).map(str.encode)))
def test_any_body_reads_as_parse_qs_reads_it_first_value_first(body: bytes) -> None:
    assert parse_form(body) == stdlib(body)


@settings(max_examples=200)
@given(text=st.text(max_size=80), user=st.text(min_size=1, max_size=20))
def test_a_slash_command_form_round_trips(text: str, user: str) -> None:
    form = slash_form(text, user_name=user)
    body = urlencode(form).encode()
    assert parse_form(body) == stdlib(body) == form
