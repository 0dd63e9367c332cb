"""The ingress' time budget: Slack shows `operation_timeout` after 3 s, so every answer is due well before."""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.deadline import Deadline

ANSWER_BUDGET_SECONDS = 2.5
"""From the request's arrival to our answer; the 0.5 s left covers API Gateway and the network back to Slack."""
PLAUSIBLE_QUEUE_SECONDS = 30.0


def answer_deadline(
    request_time_epoch_ms: object = None,
    *,
    budget: float = ANSWER_BUDGET_SECONDS,
    wall: Callable[[], float] = time.time,
    clock: Callable[[], float] = time.monotonic,
) -> Deadline:
    """Counted from when API Gateway received the request (`requestTimeEpoch`), so a cold start is counted too;
    from now when that is missing (locally) or implausible (a clock far off).
    """
    waited = 0.0
    if isinstance(request_time_epoch_ms, int | float) and not isinstance(request_time_epoch_ms, bool):
        waited = wall() - request_time_epoch_ms / 1000
        if not 0.0 <= waited <= PLAUSIBLE_QUEUE_SECONDS:
            waited = 0.0
    return Deadline.after(budget - waited, clock=clock)
