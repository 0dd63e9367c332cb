"""Slack request signatures: Slack's documented scheme v0 (HMAC-SHA256 over `v0:<timestamp>:<raw body>`, keyed
by the signing secret, hex, compared in constant time), with slack-sdk's 5-minute replay window.

Written out here rather than through `slack_sdk.signature`, which imports all of `slack_sdk.web` (tens of
milliseconds of every cold start); tests/unit/ingress/test_verification.py holds it to slack-sdk's
`SignatureVerifier` on many inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from shared.replay import SignedRequest

REPLAY_WINDOW_SECONDS = 60 * 5
"""A request whose timestamp is further from now than this is refused (slack-sdk's window)."""


def is_signed_by_slack(
    body: bytes, headers: Mapping[str, str], signing_secret: str, *, clock: Callable[[], float] = time.time
) -> bool:
    """True only for a well-formed, fresh, correctly signed request; never raises on bad input."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not timestamp or not signature or not timestamp.strip().isdigit():
        return False
    try:
        return is_valid_signature(body, timestamp.strip(), signature, signing_secret, now=clock())
    except (ValueError, TypeError, UnicodeError):
        return False


def is_valid_signature(body: bytes, timestamp: str, signature: str, signing_secret: str, *, now: float) -> bool:
    """Scheme v0 exactly as slack-sdk's `SignatureVerifier.is_valid` checks it (a body must be UTF-8 there too).

    A blank secret verifies nothing (slack-sdk refuses one): a misconfiguration fails closed.
    """
    if not signing_secret.strip() or abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return False
    body.decode("utf-8")  # UnicodeDecodeError: slack-sdk refuses a body that is not UTF-8, and so do we
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def signed_request_of(headers: Mapping[str, str]) -> SignedRequest:
    """The timestamp and signature of a request `is_signed_by_slack` accepted (the timestamp as it verified)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return SignedRequest(int(lowered["x-slack-request-timestamp"].strip()), lowered["x-slack-signature"])
