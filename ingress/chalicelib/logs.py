"""Structured JSON logs (Powertools' formatter) so CloudWatch can be queried by command id."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """Idempotent; cheap enough for import time (no I/O)."""
    root = logging.getLogger()
    if any(getattr(handler, "_slashops", False) for handler in root.handlers):
        return
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(LambdaPowertoolsFormatter(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "slashops")))
    handler._slashops = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
