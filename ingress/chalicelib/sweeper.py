"""The approval sweeper's Lambda entry (`chalicelib.expiring`), invoked every minute by EventBridge Scheduler
(infra/ingress.yaml `ApprovalSweepSchedule`) and under `make run` by the local scheduler (tools/local/scheduler.py).

Translation only: the scheduled invocation carries nothing the sweep needs but the time, which is read here. It lives
in `chalicelib` because `chalice package` ships `app.py` and `chalicelib/` only (the ingress artifact serves both).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.bootstrap import sweeper_deps
from chalicelib.expiring import sweep
from shared.logs import configure_logging

SERVICE = "slashops-approval-sweeper"


def lambda_handler(event: Any, context: Any) -> dict[str, list[str]]:
    configure_logging(SERVICE)
    return sweep(sweeper_deps(), datetime.now(UTC)).as_dict()
