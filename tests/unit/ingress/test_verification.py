"""The ingress' own v0 signature check answers exactly as slack-sdk's `SignatureVerifier` does, on any input."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.signature import Clock, SignatureVerifier

from chalicelib.verification import REPLAY_WINDOW_SECONDS, is_signed_by_slack
from tests.support.slack import signed_headers

NOW = 1_764_400_000


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


def slack_sdk_says(body: bytes, headers: dict[str, str], secret: str, now: float) -> bool:
    """What the ingress answered with slack-sdk (the check this module replaced)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
    if not timestamp or not signature or not timestamp.strip().isdigit():
        return False
    try:
        return SignatureVerifier(secret, clock=FixedClock(now)).is_valid(body, timestamp.strip(), signature)
    except (ValueError, TypeError, UnicodeDecodeError):
        return False


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


secrets = st.text(min_size=1, max_size=40)
bodies = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode))
skews = st.one_of(st.integers(-400, 400), st.sampled_from([-301, -300, -299, 0, 299, 300, 301]))


@settings(max_examples=300)
@given(secret=secrets, body=bodies, skew=skews)
def test_a_correctly_signed_request_is_judged_as_slack_sdk_judges_it(secret: str, body: bytes, skew: int) -> None:
    timestamp = str(NOW + skew)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(secret, timestamp, body)}
    ours = is_signed_by_slack(body, headers, secret, clock=lambda: NOW)
    assert ours == slack_sdk_says(body, headers, secret, NOW)
    fresh = abs(skew) <= REPLAY_WINDOW_SECONDS
    assert ours == (fresh and _is_utf8(body) and bool(secret.strip()))  # a blank secret verifies nothing


@settings(max_examples=300)
@given(
    secret=secrets,
    body=bodies,
    timestamp=st.one_of(st.integers(NOW - 400, NOW + 400).map(str), st.text(max_size=12)),
    signature=st.one_of(st.text(max_size=80), st.from_regex(r"v0=[0-9a-f]{64}", fullmatch=True)),
    names=st.sampled_from(
        [("X-Slack-Request-Timestamp", "X-Slack-Signature"), ("x-slack-request-timestamp", "x-slack-signature")]
    ),
)
def test_any_headers_are_judged_as_slack_sdk_judges_them(
    secret: str, body: bytes, timestamp: str, signature: str, names: tuple[str, str]
) -> None:
    headers = {names[0]: timestamp, names[1]: signature}
    assert is_signed_by_slack(body, headers, secret, clock=lambda: NOW) == slack_sdk_says(body, headers, secret, NOW)


@settings(max_examples=200)
@given(secret=secrets, body=st.text(max_size=200).map(str.encode), flip=st.integers(0, 63))
def test_a_signature_with_one_digit_changed_or_another_secret_is_refused(secret: str, body: bytes, flip: int) -> None:
    timestamp = str(NOW)
    good = sign(secret, timestamp, body)
    digit = good[3 + flip]
    forged = good[: 3 + flip] + ("0" if digit != "0" else "1") + good[4 + flip :]
    for signature in (forged, sign(secret + "x", timestamp, body)):
        headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
        assert not is_signed_by_slack(body, headers, secret, clock=lambda: NOW)
        assert not slack_sdk_says(body, headers, secret, NOW)


def test_slack_sdks_own_signature_is_accepted_now() -> None:
    body = b"token=x&team_id=T0001&text=deploy+--client+acme"
    assert is_signed_by_slack(body, signed_headers(body), "8f742231b10e8888abcd99yyyzzz85a5")
    assert not is_signed_by_slack(body, {"X-Slack-Signature": "v0=00"}, "8f742231b10e8888abcd99yyyzzz85a5")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
