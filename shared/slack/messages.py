"""The messages the ingress answers with. Every error of every command goes through `error_message`.

Everything here is mrkdwn (see `shared.slack.mrkdwn`): error messages arrive already escaped where their
values were put in, so they are shown as they are; a literal `<` in a usage line is written `&lt;`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.commands.catalog import Catalog
from shared.commands.spec import ArgumentSpec, ArgumentValue, CommandSpec
from shared.errors import ConfigurationError, SlashopsError
from shared.incidents import open_incident
from shared.slack.blocks import SlackMessage, context, header, section
from shared.slack.mrkdwn import code, escape, mention, text


def error_message(error: SlashopsError) -> SlackMessage:
    """One look for every refusal: a warning line, what was wrong, and what to do.

    A `ConfigurationError`'s own text (file, parameter, rule) is never shown: it is logged under an incident id,
    and the user reads `misconfigured(incident)`.
    """
    error = shown_error(error)
    lines = [f":warning: *{error.title}*", error.message]
    blocks = [section("\n".join(lines))]
    if error.hint:
        blocks.append(context(error.hint))
    fallback = f"{error.title}: {error.message}" + (f" {error.hint}" if error.hint else "")
    return SlackMessage(text=fallback, blocks=tuple(blocks))


def shown_error(error: SlashopsError) -> SlashopsError:
    """The error as users may read it: a `ConfigurationError` becomes `misconfiguration` under a new incident."""
    if isinstance(error, ConfigurationError):
        return misconfiguration(open_incident(error, where="ingress"))
    return error


def acknowledgement(spec: CommandSpec, arguments: Mapping[str, ArgumentValue], command_id: str) -> SlackMessage:
    shown = format_arguments(arguments, spec)
    line = f":inbox_tray: `{spec.name}`{(' ' + shown) if shown else ''} accepted as `{command_id}`."
    if spec.long_running and spec.visibility == "in_channel":
        follow = (
            "It is announced in this channel when it starts, with its progress in that message's thread "
            "(or reported here if the slashops app cannot post in this channel)."
        )
    else:
        follow = "I'll report progress here." if spec.long_running else "I'll report the result here."
    return SlackMessage(
        text=f"{text(spec.name)} accepted as {text(command_id)}",
        blocks=(section(line), context(f"{follow} Check any time with `/ops status {command_id}`.")),
    )


def answer(line: str, note: str = "", *, in_channel: bool = False) -> SlackMessage:
    """A plain answer: one mrkdwn `line` (the notification text too) and an optional `note` under it. Both are
    mrkdwn built with `shared.slack.mrkdwn` (`text()` around every value): they are shown as they are."""
    blocks = (section(line), *((context(note),) if note else ()))
    return SlackMessage(text=line, blocks=blocks, response_type="in_channel" if in_channel else "ephemeral")


def format_arguments(arguments: Mapping[str, ArgumentValue], spec: CommandSpec | None = None) -> str:
    """The arguments as typed: `--name value` for options, the value alone for `spec`'s positional ones
    (`cancel 3f9c…`, not `cancel --id 3f9c…`)."""
    positional = {argument.dest for argument in spec.arguments if argument.positional} if spec else set()
    parts = []
    for name, value in arguments.items():
        option = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if name in positional:
            parts.append(code(str(value)))
        else:
            parts.append(f"`{option}`" if value is True else code(f"{option} {value}"))
    return " ".join(parts)


def help_overview(
    catalog: Catalog | Iterable[CommandSpec],
    prog: str = "/ops",
    *,
    notes: Mapping[str, str] | None = None,
    footer: str = "",
) -> SlackMessage:
    """The listed commands with their summaries; `notes[name]` (mrkdwn) follows a summary, `footer` (mrkdwn) says
    what is not listed and why."""
    specs = list(catalog)
    notes = notes or {}
    lines = [f"`{spec.name}` — {escape(spec.summary)}{notes.get(spec.name, '')}" for spec in specs]
    explain = (
        f"`{prog} help &lt;command&gt;` or `{prog} &lt;command&gt; --help` shows a command's options and examples."
    )
    return SlackMessage(
        text=f"{escape(prog)} commands: " + ", ".join(text(spec.name) for spec in specs),
        blocks=(
            header(f"{prog} commands"),
            section("\n".join(lines)),
            context(f"{footer} {explain}" if footer else explain),
        ),
    )


def help_for(spec: CommandSpec, prog: str = "/ops", *, access: str = "") -> SlackMessage:
    """Usage, options and examples; `access` (mrkdwn) says whether the caller may run it here, and with what."""
    blocks = [
        header(f"{prog} {spec.name}"),
        section(escape(spec.summary) + (f"\n{escape(spec.description)}" if spec.description else "")),
    ]
    if access:
        blocks.append(section(access))
    blocks.append(section(f"*Usage*\n`{escape(spec.usage(prog))}`"))
    if spec.arguments:
        blocks.append(section("*Options*\n" + "\n".join(_describe_argument(a) for a in spec.arguments)))
    if spec.examples:
        blocks.append(section("*Examples*\n" + "\n".join(f"`{escape(example)}`" for example in spec.examples)))
    return SlackMessage(text=f"Usage: {escape(spec.usage(prog))}", blocks=tuple(blocks))


def _describe_argument(argument: ArgumentSpec) -> str:
    name = f"&lt;{escape(argument.display_metavar)}&gt;" if argument.positional else argument.option
    if argument.type != "flag" and not argument.positional:
        name += f" {escape(argument.display_metavar)}"
    notes = []
    if argument.required:
        notes.append("required")
    if argument.default is not None and argument.type != "flag":
        notes.append(f"default: {argument.default}")
    suffix = f" _({', '.join(notes)})_" if notes else ""
    return f"• `{name}` — {escape(argument.help)}{suffix}"


def misconfigured(incident: str, command: str | None = None) -> str:
    """The one text for a broken configuration, wherever it is found (`shared.incidents.open_incident` logs the
    detail under `incident`); file and parameter names are for the admins' logs only."""
    not_run = f", so {code(command)} was not run" if command else ""
    return f"slashops is misconfigured{not_run}; the admins have the details (incident {code(incident)})."


def misconfiguration(incident: str) -> SlashopsError:
    """What the ingress answers while the configuration is broken (the detail is in the incident's log line)."""
    return SlashopsError(
        misconfigured(incident),
        title=ConfigurationError.title,
        hint="Commands work again once the configuration is fixed; give the incident id to whoever runs slashops.",
    )


def not_allowed_now(user_id: str, command: str) -> tuple[str, str]:
    """A consumer's re-check refused the caller (reason, hint): the rules changed, or the event is not the ingress'."""
    return (
        f"{mention(user_id)} is not allowed to run {code(command)} in this channel (the access rules changed, or "
        "the request did not come from the ingress). Nothing was run.",
        f"Ask an admin to add you to the {code(command)} rule of the slashops configuration.",
    )
