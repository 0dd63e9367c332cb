"""Slack request signatures (v0 HMAC over the raw body, 5-minute window) via slack-sdk."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.signature import Clock, SignatureVerifier

from shared.replay import SignedRequest


class SystemClock(Clock):
    pass


def is_signed_by_slack(
    body: bytes, headers: Mapping[str, str], signing_secret: str, *, clock: Clock | None = None
) -> bool:
    """True only for a well-formed, fresh, correctly signed request; never raises on bad input."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not timestamp or not signature or not timestamp.strip().isdigit():
        return False
    try:
        verifier = SignatureVerifier(signing_secret, clock=clock or SystemClock())
        return verifier.is_valid(body=body, timestamp=timestamp.strip(), signature=signature)
    except (ValueError, TypeError, UnicodeDecodeError):
        return False


def signed_request_of(headers: Mapping[str, str]) -> SignedRequest:
    """The timestamp and signature of a request `is_signed_by_slack` accepted (the timestamp as it verified)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return SignedRequest(int(lowered["x-slack-request-timestamp"].strip()), lowered["x-slack-signature"])
