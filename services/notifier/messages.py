"""Each result event as a Block Kit message with a text fallback, always within Slack's size limits.

Accepted and progress messages are ephemeral and replace the previous one (one message that updates in
place). The final result is posted to the channel when the command is declared `in_channel` (as a new
message, so the channel sees it), otherwise it replaces the ephemeral progress message.
An announced command (in-channel, its events carrying `activity`) is shown differently: one channel message
(`parent_message`: who does what, its state, its buttons), updated in place, with each event as a reply in its
thread (`thread_reply`).
Long output keeps its end (the useful part of a log) and says it was cut, with a link to the full log (the event's
last link).
An event's text fields are mrkdwn, escaped by the service that wrote them, so they are shown as they are;
only `output` (plain text) and link labels are escaped here (`shared.slack.mrkdwn`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.events.models import (
    CommandAccepted,
    CommandCancelled,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandSucceeded,
    Link,
    ResultEvent,
)
from shared.ledger.models import LedgerEntry
from shared.slack.actions import actions, cancel_button, retry_button, rollback_button
from shared.slack.blocks import Block, SlackMessage, code_block, context, section
from shared.slack.mrkdwn import code, link, mention, text

OUTPUT_LIMIT = 2500
"""Characters of output shown: a section holds 3,000, minus the code fence and room for the note."""


def format_event(event: ResultEvent) -> SlackMessage:
    match event:
        case CommandAccepted():
            return _interim(event, f":hourglass_flowing_sand: {_name(event)} started: {event.message}")
        case CommandProgress():
            return _progress(event)
        case CommandSucceeded():
            line = f":white_check_mark: {_name(event)} *succeeded*: {event.summary}"
            return _final(event, line, event.links, event.output, event.duration_seconds, "")
        case CommandFailed():
            advice = "Retrying may help." if event.retryable else "Retrying will not help until the cause is fixed."
            line = f":x: {_name(event)} *failed*: {event.reason}"
            return _final(event, line, event.links, event.output, event.duration_seconds, advice)
        case CommandCancelled():
            by = "" if mention(event.cancelled_by) in event.reason else _by(event)  # said once
            line = f":octagonal_sign: {_name(event)} *was cancelled*{by}: {event.reason}"
            return _final(event, line, event.links, event.output, event.duration_seconds, "")
        case CommandRejected():
            line = f":no_entry: {_name(event)} *was rejected*: {event.reason}"
            return _final(event, line, (), "", None, event.hint)
    raise TypeError(f"not a result event: {type(event).__name__}")


CANCELLABLE = frozenset({"deploy"})
"""Commands `cancel <id>` stops (services/deploy/cancelling.py): their channel message has a Cancel button."""
ROLLBACKABLE = frozenset({"deploy"})
"""Commands `rollback` undoes (ingress/chalicelib/rolling_back.py): once succeeded, a Rollback button."""


def parent_message(event: ResultEvent, entry: LedgerEntry, now: datetime) -> SlackMessage:
    """The announced command's channel message as of `event`: who does what and how it stands, with Cancel while
    it runs (if it can be stopped) and Retry after a failure. `entry` (the ledger, with this event recorded) holds
    the latest links, and when the command was typed (the duration, when the event does not carry one)."""
    who, doing = mention(event.reply_to.user_id), _activity(event, entry)
    links = " · ".join(_link(item) for item in entry.links)
    facts = [_name(event)]
    if entry.approval == "approved" and entry.decided_by:  # this message was its approval request: say who approved
        facts.append(f"approved by {mention(entry.decided_by)}")
    buttons: list[Block] = []
    if isinstance(event, CommandAccepted | CommandProgress):
        line = f"{_PARENT_ICONS[type(event)]} {who} is {doing}" + (f" — {links}" if links else "")
        if event.command in CANCELLABLE:
            buttons.append(cancel_button(event.command_id, f"{_name(event)}: {doing}"))
    else:
        line = f"{_PARENT_ICONS[type(event)]} {who} was {doing} — {_outcome(event, _took(event, entry, now))}"
        facts += [links] if links else []
        if isinstance(event, CommandFailed):
            buttons.append(retry_button(event.command_id))
        elif isinstance(event, CommandSucceeded) and event.command in ROLLBACKABLE:
            buttons.append(rollback_button(event.command_id, f"{_name(event)}: {doing}"))
    facts.append(f"progress in the thread · `/ops status {event.command_id}`")
    blocks: list[Block] = [section(line), context(" · ".join(facts))]
    if buttons:
        blocks.append(actions(*buttons))
    return SlackMessage(text=_plain(line), blocks=tuple(blocks), response_type="in_channel")


def _activity(event: ResultEvent, entry: LedgerEntry) -> str:
    """What the command does, after "is" / "was": a rollback says so and names the deploy it undoes (from the ledger,
    which knows it once the ingress' request is recorded: until then, the service's own words)."""
    branch, client = entry.arguments.get("branch"), entry.arguments.get("client")
    if not entry.rollback_of or not branch or not client:
        return event.activity
    target = f"*{text(str(client))}* *{text(str(entry.arguments.get('env') or 'staging'))}*"
    return f"rolling back {target} to {code(str(branch))} (undoing deploy {code(entry.rollback_of)})"


def thread_reply(event: ResultEvent) -> SlackMessage:
    """The event as a reply in the channel message's thread: its line (and for the final result, the details)."""
    message = format_event(event)
    if isinstance(event, CommandAccepted | CommandProgress):
        return SlackMessage(text=message.text, blocks=message.blocks[:1], response_type="in_channel")
    return message.model_copy(update={"replace_original": None})


_PARENT_ICONS: dict[type[ResultEvent], str] = {
    CommandAccepted: ":hourglass_flowing_sand:",
    CommandProgress: ":arrows_counterclockwise:",
    CommandSucceeded: ":white_check_mark:",
    CommandFailed: ":x:",
    CommandCancelled: ":octagonal_sign:",
    CommandRejected: ":no_entry:",
}


def _outcome(event: ResultEvent, took: str) -> str:
    match event:
        case CommandSucceeded():
            return f"*succeeded* in {took}"
        case CommandFailed():
            return f"*failed* after {took}: {event.reason}"
        case CommandCancelled():
            return f"*cancelled*{_by(event)} after {took}"
        case CommandRejected():
            return f"*refused*: {event.reason}"
    raise TypeError(f"not a final event: {type(event).__name__}")


def _by(event: CommandCancelled) -> str:
    return f" by {mention(event.cancelled_by)}" if event.cancelled_by else ""


def _took(event: ResultEvent, entry: LedgerEntry, now: datetime) -> str:
    """The event's own duration (a build's), else the time since the command was typed."""
    seconds = getattr(event, "duration_seconds", None)
    if not isinstance(seconds, int | float):
        seconds = max((now - entry.started_at()).total_seconds(), 0.0)
    return _duration(seconds)


def _name(event: ResultEvent) -> str:
    return f"{code(event.command)} {code(event.command_id)}"


def _progress(event: CommandProgress) -> SlackMessage:
    line = f":arrows_counterclockwise: {_name(event)}: {event.message}"
    if event.percent is not None:
        line += f" ({event.percent}%)"
    if event.link:
        line += f" · {_link(event.link)}"
    return _interim(event, line)


def _interim(event: ResultEvent, line: str) -> SlackMessage:
    footer = context(f"Updates replace this message. `/ops status {event.command_id}` shows it any time.")
    replace = not event.reply_to.keep_original
    return SlackMessage(text=_plain(line), blocks=(section(line), footer), replace_original=replace)


def _final(
    event: ResultEvent,
    line: str,
    links: Sequence[Link],
    output: str,
    duration: float | None,
    advice: str,
) -> SlackMessage:
    public = event.reply_to.visibility == "in_channel"
    blocks: list[Block] = [section(line)]
    if output.strip():
        blocks.extend(_output_blocks(output, links, event.command_id))
    facts = [f"Run by {mention(event.reply_to.user_id)}"] if public else []
    if duration is not None:
        facts.append(f"took {_duration(duration)}")
    if links:
        facts.append(" · ".join(_link(link) for link in links))
    if advice:
        facts.append(advice)
    if facts:
        blocks.append(context(" · ".join(facts)))
    return SlackMessage(
        text=_plain(line),
        blocks=tuple(blocks),
        response_type="in_channel" if public else "ephemeral",
        replace_original=not public and not event.reply_to.keep_original,
    )


def _output_blocks(output: str, links: Sequence[Link], command_id: str) -> list[Block]:
    """The output in a code block (escaped there); a backtick in it could end the block early (Slack has no escape
    for it), so it is shown as `ˋ`, as `code()` does. The full log is the event's last link."""
    blocks = [code_block(output.replace("`", "\u02cb"), limit=OUTPUT_LIMIT)]
    if len(output) > OUTPUT_LIMIT:
        where = f"Full log: {_link(links[-1])}" if links else f"`/ops status {command_id}` has the links."
        blocks.append(context(f"Output cut: the last {OUTPUT_LIMIT:,} of {len(output):,} characters. {where}"))
    return blocks


def _link(item: Link) -> str:
    return link(item.url, item.label)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest}s" if minutes else f"{rest}s"


def _plain(line: str) -> str:
    """The notification text: the line without its leading emoji code (the payload truncates it)."""
    return line.split(" ", 1)[1] if line.startswith(":") and " " in line else line
