"""The port that remembers which signed Slack requests were already published, so a replay never runs twice.

A captured request stays correctly signed for Slack's 5-minute window; re-sent within it, the signature check
alone would publish it again (a second deploy). The guard records each signature once, across every instance
of the ingress, and answers a second sighting with the command id of the first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from shared.deadline import Deadline
from shared.errors import UnavailableError

SIGNATURE_WINDOW_SECONDS = 300
"""slack-sdk's `SignatureVerifier` accepts a timestamp up to 5 minutes away from our clock, either way."""
REMEMBER_SECONDS = SIGNATURE_WINDOW_SECONDS + 60
"""How long after its timestamp a signature is remembered: past the window, plus a margin for clock skew."""


class ReplayGuardUnavailableError(UnavailableError):
    """The guard could not say whether the request is new: the caller must not publish (fail closed)."""

    title = "Request log unavailable"


@dataclass(frozen=True)
class SignedRequest:
    """What identifies one signed request: its timestamp and v0 signature (never its body or response_url)."""

    timestamp: int
    signature: str
    once_per: str = ""
    """When set, the request repeats any earlier one with the same `once_per`, whatever its own signature: two
    clicks on one button (a double click, or two people) are two signed requests that must run once."""

    @property
    def key(self) -> str:
        """A hash, so the table holds nothing that could sign or answer anything."""
        if self.once_per:
            return hashlib.sha256(f"once:{self.once_per}".encode()).hexdigest()
        return hashlib.sha256(f"v0:{self.timestamp}:{self.signature}".encode()).hexdigest()

    @property
    def forget_after(self) -> int:
        """Epoch seconds after which the signature is stale everywhere, so forgetting it is safe (the TTL)."""
        return self.timestamp + REMEMBER_SECONDS


class ReplayGuard(Protocol):
    """Records a signed request once; raises `ReplayGuardUnavailableError` when it cannot tell.

    Adapter: `shared.aws.replay_guard.DynamoDbReplayGuard`; fake: `tests/support/fakes/ingress.py`; both held to
    one contract in tests/contracts/test_replay_guard.py.
    """

    def first_sighting(self, request: SignedRequest, command_id: str, *, deadline: Deadline) -> str | None:
        """None if `request` is new (now recorded with `command_id`), else the command id it was first seen with."""
        ...
