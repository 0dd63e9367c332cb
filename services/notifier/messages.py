"""Each result event as a Block Kit message with a text fallback, always within Slack's size limits.

Accepted and progress messages are ephemeral and replace the previous one (one message that updates in
place). The final result is posted to the channel when the command is declared `in_channel` (as a new
message, so the channel sees it), otherwise it replaces the ephemeral progress message.
Long output keeps its end (the useful part of a log) and says it was cut, with a link to the full log.
An event's text fields are mrkdwn, escaped by the service that wrote them, so they are shown as they are;
only `output` (plain text) and link labels are escaped here (`shared.slack.mrkdwn`).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.events.models import (
    CommandAccepted,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandSucceeded,
    Link,
    ResultEvent,
)
from shared.slack.blocks import Block, SlackMessage, code_block, context, section
from shared.slack.mrkdwn import code, link, mention

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
        case CommandRejected():
            line = f":no_entry: {_name(event)} *was refused*: {event.reason}"
            return _final(event, line, (), "", None, event.hint)
    raise TypeError(f"not a result event: {type(event).__name__}")


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
    return SlackMessage(text=_plain(line), blocks=(section(line), footer), replace_original=True)


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
        replace_original=not public,
    )


def _output_blocks(output: str, links: Sequence[Link], command_id: str) -> list[Block]:
    blocks = [code_block(output, limit=OUTPUT_LIMIT)]
    if len(output) > OUTPUT_LIMIT:
        where = f"Full log: {_link(links[0])}" if links else f"`/ops status {command_id}` has the links."
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
