"""The shared reporter: one typed result event per call, about one command, from the unit's source."""

from __future__ import annotations

from collections.abc import Sequence

from shared.deadline import Deadline
from shared.events.models import (
    CommandAccepted,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandSucceeded,
    Event,
    Link,
    ReplyTarget,
)
from shared.events.reporter import Reporter

REPLY = ReplyTarget(response_url="https://hooks.slack.test/r/1", channel_id="C1", user_id="U1")
LINK = Link(label="Build #7", url="https://jenkins.test/7")


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: Sequence[Event], *, deadline: Deadline | None = None) -> None:
        self.events.extend(events)


def test_each_method_publishes_its_event_type_with_the_fields_given() -> None:
    publisher = RecordingPublisher()
    report = Reporter(publisher, "slashops.backup").about("abc123", "backup", REPLY)
    report.accepted("Backing up `orders`…")
    report.progress("1 MiB so far…", LINK)
    report.succeeded("Backed up.", links=(LINK,), duration=1.5, output="done")
    report.failed("pg_dump failed.", retryable=True, duration=2.0, output="stderr tail")
    report.rejected("Unknown database.", "Configured databases: `orders`.")

    accepted, progress, succeeded, failed, rejected = publisher.events
    assert isinstance(accepted, CommandAccepted) and accepted.message == "Backing up `orders`…"
    assert isinstance(progress, CommandProgress) and progress.link == LINK
    assert isinstance(succeeded, CommandSucceeded)
    assert (succeeded.summary, succeeded.links, succeeded.duration_seconds, succeeded.output) == (
        "Backed up.",
        (LINK,),
        1.5,
        "done",
    )
    assert isinstance(failed, CommandFailed) and (failed.retryable, failed.output) == (True, "stderr tail")
    assert isinstance(rejected, CommandRejected) and rejected.hint == "Configured databases: `orders`."
    for event in publisher.events:
        assert (event.command_id, event.command, event.reply_to, event.source) == (  # type: ignore[attr-defined]
            "abc123",
            "backup",
            REPLY,
            "slashops.backup",
        )


def test_defaults_say_not_retryable_and_no_links() -> None:
    publisher = RecordingPublisher()
    Reporter(publisher, "slashops.deploy").about("abc123", "deploy", REPLY).failed("Jenkins refused.")
    failed = publisher.events[0]
    assert isinstance(failed, CommandFailed) and (failed.retryable, failed.links, failed.output) == (False, (), "")
