"""Checks for a broken configuration's two halves: what the user reads, and the admins' ERROR line with the same id."""

from __future__ import annotations

import logging
import re

import pytest

INCIDENT = re.compile(r"incident `([0-9a-f]{8})`")


def incident_shown(text: str, *hidden: str) -> str:
    """The incident id in a user's text, after checking that none of `hidden` (paths, parameters, rules) is there."""
    for detail in hidden:
        assert detail not in text, f"{detail!r} shown to the user: {text!r}"
    assert "slashops is misconfigured" in text and "the admins have the details" in text, text
    match = INCIDENT.search(text)
    assert match is not None, f"no incident id in {text!r}"
    return match.group(1)


def logged_detail(caplog: pytest.LogCaptureFixture, incident: str, *details: str) -> logging.LogRecord:
    """The one ERROR record for `incident`; it carries every one of `details` in its text."""
    records = [r for r in caplog.records if getattr(r, "incident", None) == incident]
    assert len(records) == 1, f"expected one log record for incident {incident}, got {len(records)}"
    [record] = records
    assert record.levelno == logging.ERROR and incident in record.getMessage()
    for detail in details:
        assert detail in record.getMessage(), f"{detail!r} not logged: {record.getMessage()!r}"
    return record
