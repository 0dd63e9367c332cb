"""Names in rules resolved through Slack: what counts as an ID, the cache, and failing closed."""

from __future__ import annotations

from shared.deadline import Deadline
from shared.slack.names import CachedNameDirectory, NameReferences, is_channel_id, is_user_id, resolve_names
from tests.support.fakes.names import MemoryNameDirectory


def test_ids_are_slacks_capitals_and_everything_else_is_a_name() -> None:
    assert is_user_id("U0ALICE") and is_user_id("W012AB") and is_user_id("U1")
    assert not is_user_id("alice") and not is_user_id("u0alice") and not is_user_id("alice@example.com")
    assert is_channel_id("C0123") and is_channel_id("G0PRIV")
    assert not is_channel_id("#deploys") and not is_channel_id("deploys")


def test_references_keep_only_names_and_channels_without_hash() -> None:
    wanted = NameReferences.among(["U0ABC", "carol", "bob@example.com"], ["C0123", "#deploys", "ops"])
    assert wanted.users == {"carol", "bob@example.com"} and wanted.channels == {"deploys", "ops"}
    assert not NameReferences.among(["U0ABC"], ["C0123"])


def test_no_name_in_the_rules_asks_slack_nothing() -> None:
    directory = MemoryNameDirectory(unavailable=True)
    names = resolve_names(NameReferences.among(["U0ABC"], ["C0123"]), directory)
    assert not directory.calls and names.user("U0ABC", "U0ABC") is True


def test_answers_are_cached_for_the_ttl_and_failures_are_not() -> None:
    now = [0.0]
    inner = MemoryNameDirectory().user("U0CAROL", "carol")
    cached = CachedNameDirectory(inner, ttl=lambda: 300, clock=lambda: now[0])
    wanted = NameReferences.among(["carol"], [])
    assert resolve_names(wanted, cached).users == {"carol": "U0CAROL"}
    assert resolve_names(wanted, cached).users == {"carol": "U0CAROL"}
    assert inner.calls["user_ids"] == 1
    now[0] = 301.0
    inner.unavailable = True
    assert resolve_names(wanted, cached).users is None  # stale and Slack down: unknown, never the old answer
    inner.unavailable = False
    inner.user("U0OTHER", "carol")  # the name now belongs to someone else
    assert resolve_names(wanted, cached).users == {"carol": "U0OTHER"}
    assert inner.calls["user_ids"] == 3


def test_no_time_left_in_the_answer_budget_leaves_names_unknown() -> None:
    directory = MemoryNameDirectory().user("U0CAROL", "carol").channel("C0DEP", "deploys")
    spent = Deadline.after(0.1)
    names = resolve_names(NameReferences.among(["carol"], ["#deploys"]), directory, deadline=spent)
    assert names.users is None and names.channels is None
    assert not directory.calls
