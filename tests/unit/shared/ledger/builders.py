"""Moved to tests/support/events.py; kept until the deploy and notifier tests import from there."""

from tests.support.events import T0, accepted, at, failed, progress, rejected, reply_to, succeeded
from tests.support.events import command_requested as requested

__all__ = ["T0", "accepted", "at", "failed", "progress", "rejected", "reply_to", "requested", "succeeded"]
