"""Moved to tests/support/ledger.py; kept until the notifier's tests import it from there."""

from tests.support.ledger import moto_ledger

__all__ = ["moto_ledger"]
