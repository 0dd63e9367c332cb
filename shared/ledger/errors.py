"""Ledger errors: a storage problem is reported to the user through the usual error message path."""

from __future__ import annotations

from shared.errors import UnavailableError


class LedgerUnavailableError(UnavailableError):
    """The ledger could not be read or written (throttled, unreachable, missing table)."""

    title = "Command history unavailable"
