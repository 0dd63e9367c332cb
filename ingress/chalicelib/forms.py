"""Forms: `/ops deploy` and `/ops restore` typed without arguments open a Slack modal; its submission runs the
command exactly as if its fields had been typed.

Opening (`open_form`, on the slash command's request, within its 3 seconds): only for a caller the access rules
admit to the command in this channel, and only with the choices the rules let them use (a deploy's clients and
environments, a restore's databases, each decided as the typed command would be); a caller admitted to nothing, a
form that could offer nothing, or an ingress without Slack's Web API gets the answer the typed text gets (no form).
`views.open` is given `OPEN_SECONDS` of the budget; if Slack is slower (or refuses), the caller is told so with the
command to type instead (a form that opens late after all can still be submitted).

Submitting (`submit`, on the Interactivity Request URL, within its 3 seconds): the fields become the command's text
(`deploy --client acme --env staging --branch main`, quoted as the tokenizer reads it) and go through
`consumer.run_command` as the user who submitted, in the channel the form was opened from (kept in the view's
`private_metadata`, which slashops alone writes): the same parser and validators, access rules, approvals, locks,
freezes and replay guard (keyed on the view and the text: a double submission publishes once). Invalid arguments
come back under their field (`response_action: errors`) and the form stays open; anything else closes the form and
the command's answer (queued, held for approval, refused, a restore's confirmation prompt) is posted to the channel
for the user alone, by the bot (`chat.postEphemeral`). If Slack does not take that message, the form is replaced by
the answer instead, so the user always reads it. Results follow with the bot (there is no response_url: the
notifier posts with the bot when a command has none). Cancel runs nothing.

Backups for a restore are typed (a text field), not chosen: the ingress can check that a backup exists but cannot
list a database's backups within the budget (`BackupCatalog` has no listing), so the form says where to find them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from chalicelib.access import admit
from chalicelib.consumer import run_command
from chalicelib.deps import IngressDeps
from chalicelib.errors import NoSuchBackupError
from chalicelib.models import VerifiedRequest
from chalicelib.slack_request import SlashCommandRequest
from shared.commands.spec import CommandSpec
from shared.commands.tokenizer import normalize
from shared.config.access import AccessRule, Caller, decide, restricts_arguments
from shared.config.model import SlashopsConfig
from shared.deadline import Deadline
from shared.errors import SlashopsError, UsageError
from shared.replay import SignedRequest
from shared.slack.blocks import SlackMessage
from shared.slack.messages import error_message
from shared.slack.mrkdwn import code
from shared.slack.views import ViewsUnavailableError

if TYPE_CHECKING:  # a command's cold start needs no interaction models (the Interactivity URL imports them)
    from chalicelib.view_request import SubmittedView, ViewClosed, ViewSubmission

logger = logging.getLogger(__name__)

OPEN_SECONDS = 1.5
"""Of the command's 3 s, at most this much for `views.open`: what is left answers Slack if it is slow."""
POST_SECONDS = 1.0
"""At most this much for posting a submission's answer in the channel."""
CALLBACK_PREFIX = "ops-form:"
MAX_OPTIONS = 100
"""Slack's limit on a static select's options: more clients or databases than this become a text field."""
MAX_OPTION_VALUE = 75
"""Slack's limit on an option's text (its value may be 150): a longer name is left out of a select."""
DEFAULT_BRANCH = "main"
_NO_COMMAND = "-"
"""What a rule dropped by `_on_selects` covers: no command has that name."""
_CHANNEL = re.compile(r"[CGD][A-Z0-9]{1,30}")
_NO_RESPONSE_URL = "https://response-url.invalid/"
"""Passes the request's check only to be emptied at once: a form's command has no response_url, so the notifier
posts its progress and result with the bot (as for an approved request kept without one)."""


class _Opened:
    """`open_form`'s answer when the form is open: the slash command's HTTP answer is empty (Slack shows nothing)."""


OPENED: Final = _Opened()


@dataclass(frozen=True)
class Field:
    """One input of a form: the command's option it fills, and the choices offered (None: a text field)."""

    option: str
    label: str
    choices: tuple[str, ...] | None = None
    initial: str = ""
    hint: str = ""
    placeholder: str = ""
    optional: bool = False

    def block(self) -> dict[str, Any]:
        element: dict[str, Any]
        if self.choices is None:
            element = {"type": "plain_text_input", "action_id": self.option}
            if self.initial:
                element["initial_value"] = self.initial
            if self.placeholder:
                element["placeholder"] = _plain(self.placeholder)
        else:
            element = {
                "type": "static_select",
                "action_id": self.option,
                "options": [_option(choice) for choice in self.choices],
            }
            if self.initial in self.choices:
                element["initial_option"] = _option(self.initial)
        block: dict[str, Any] = {
            "type": "input",
            "block_id": self.option,
            "label": _plain(self.label),
            "element": element,
            "optional": self.optional,
        }
        if self.hint:
            block["hint"] = _plain(self.hint)
        return block


@dataclass(frozen=True)
class Form:
    """A command's form: its title, what its Submit button says, and how its fields are chosen for a caller."""

    command: str
    title: str
    submit: str
    fields: Callable[[CommandSpec, Caller, IngressDeps], tuple[Field, ...] | None]
    """The fields for this caller, or None when the rules leave them nothing to choose (no form)."""
    shown_under: Mapping[type[SlashopsError], str] = field(default_factory=dict)
    """Refusals about one field that do not name its option, and that field (a backup that does not exist)."""


def open_form(verified: VerifiedRequest, deps: IngressDeps) -> _Opened | SlackMessage | None:
    """For `/ops deploy` or `/ops restore` typed alone: `OPENED`, or a message saying why the form did not open;
    None for any other request, or when the typed text's own answer is the right one (no form)."""
    request = verified.request
    form = FORMS.get(normalize(request.text).lower())
    spec = deps.catalog.get(form.command) if form is not None else None
    if form is None or spec is None or deps.views is None or not request.trigger_id:
        return None
    try:
        caller, _ = admit(spec, request, deps, deadline=verified.deadline)
        fields = form.fields(spec, caller, deps)
    except SlashopsError:  # refused here, or the configuration is unusable: answered as the typed text is
        return None
    if not fields:
        return None
    view = _view(form, fields, request)
    try:
        deps.views.open(request.trigger_id, view, deadline=verified.deadline.within(OPEN_SECONDS))
    except ViewsUnavailableError as error:
        logger.warning("the %s form did not open: %s", form.command, error)
        return error_message(_not_opened(spec))
    logger.info("form opened", extra={"command": form.command, "user_id": request.user_id})
    return OPENED


def submit(submission: ViewSubmission, signed: SignedRequest, deadline: Deadline, deps: IngressDeps) -> str:
    """The HTTP body answering a form's Submit: "" (the form closes), field errors, or the answer in the form."""
    view = submission.view
    form = FORMS.get(view.callback_id.removeprefix(CALLBACK_PREFIX)) if view.callback_id else None
    spec = deps.catalog.get(form.command) if form is not None else None
    place = _place(view.private_metadata)
    if form is None or spec is None or place is None:
        logger.warning("a form submission slashops cannot read", extra={"callback_id": view.callback_id[:80]})
        return _replaced(view, error_message(_unreadable()))
    missing = _missing(spec, view)
    if missing:
        return _errors(missing)
    text = command_text(spec, view)
    request = _request(submission, place, text)
    once = replace(signed, once_per=f"form:{view.id}:{hashlib.sha256(text.encode()).hexdigest()[:32]}")
    answer, refused = run_command(VerifiedRequest(request, once, deadline), deps, normalized=text)
    inline = _field_errors(form, spec, refused, view)
    if inline:
        return _errors(inline)
    return _tell(submission, place[0], answer, deadline, deps)


def closed(cancelled: ViewClosed) -> str:
    """Cancel: nothing was run, nothing is said (Slack closes the form)."""
    logger.info("form cancelled", extra={"callback_id": cancelled.view.callback_id[:80], "user_id": cancelled.user.id})
    return ""


def command_text(spec: CommandSpec, view: SubmittedView) -> str:
    """The command the fields stand for, as it would be typed (`shlex.join`: what the tokenizer splits back)."""
    words = [spec.name]
    for argument in spec.arguments:
        value = view.field(argument.name)
        if value:
            words += [argument.option, value]
    return shlex.join(words)


# --- the forms --------------------------------------------------------------------------------------------------


def deploy_fields(spec: CommandSpec, caller: Caller, deps: IngressDeps) -> tuple[Field, ...] | None:
    """Client and environment selects with what the rules let the caller use (a client is offered if some
    environment is, and the other way round), the branch a text field (`main` by default). Without a configured
    client list (any name is accepted) the client is typed."""
    config = deps.config.get()
    clients = _selectable(config.deploy.client_names()) if config.deploy.restricted else None
    envs = _choices_of(spec, "env")
    if clients is None:  # any client name: the environments the rules could allow, the client decided on submission
        allowed = [{"client": "", **env} for env in _allowed(spec, config, caller, [{"env": e} for e in envs])]
    else:
        allowed = _allowed(spec, config, caller, [{"client": c, "env": e} for c in clients for e in envs])
    if not allowed:
        return None
    offered_envs = tuple(e for e in envs if any(a["env"] == e for a in allowed))
    client = (
        Field("client", "Client", tuple(c for c in clients if any(a["client"] == c for a in allowed)))
        if clients is not None
        else Field("client", "Client", placeholder="acme", hint="The client's name, as `/ops deploy` takes it.")
    )
    default_env = next((a.default for a in spec.arguments if a.dest == "env"), None)
    return (
        client,
        Field("env", "Environment", offered_envs, initial=str(default_env or "")),
        Field("branch", "Branch", initial=DEFAULT_BRANCH, hint="A git branch or tag."),
    )


def restore_fields(spec: CommandSpec, caller: Caller, deps: IngressDeps) -> tuple[Field, ...] | None:
    """The databases the rules let the caller restore (`backup.databases`, which lists every database a backup may
    be restored into), and the backup id typed (see the module's note). Nothing configured: the database is typed."""
    config = deps.config.get()
    databases = _selectable(config.backup.databases)
    if databases:
        allowed = _allowed(spec, config, caller, [{"db": db} for db in databases])
        if not allowed:
            return None
        database = Field("db", "Database", tuple(a["db"] for a in allowed))
    else:
        database = Field("db", "Database", placeholder="orders", hint="The database to restore (replace).")
    backup = Field(
        "from",
        "Backup",
        placeholder="orders-20261128T101500Z-3f9c2a",
        hint="The backup id: `/ops backups --db <database>` lists the newest. You confirm before anything is restored.",
    )
    return database, backup


FORMS: Mapping[str, Form] = {
    "deploy": Form("deploy", "Deploy", "Deploy", deploy_fields),
    "restore": Form("restore", "Restore a database", "Continue", restore_fields, {NoSuchBackupError: "from"}),
}
"""The commands typed alone that open a form, by name."""


# --- helpers ----------------------------------------------------------------------------------------------------


def _allowed(
    spec: CommandSpec, config: SlashopsConfig, caller: Caller, candidates: Iterable[dict[str, str]]
) -> list[dict[str, str]]:
    """The candidates (values of the form's selects) the rules could let the caller use, whatever they type in its
    text fields: decided on the rules as they bear on the selects alone (`_on_selects`). So nothing the caller may
    run is hidden, and a choice offered may still be refused on submission for what was typed (a branch)."""
    candidates = list(candidates)
    if not candidates or not restricts_arguments(config.access, spec.name):
        return candidates
    rules = _on_selects(config.access, frozenset(candidates[0]))
    return [c for c in candidates if decide(rules, command=spec.name, caller=caller, arguments=c).allowed]


def _on_selects(rules: Sequence[AccessRule], selects: frozenset[str]) -> list[AccessRule]:
    """The rules with their argument conditions narrowed to the selects: an allow rule's conditions on other
    arguments are dropped (it may admit, depending on what is typed), a deny rule with such conditions is dropped
    (it may not deny). Numbering is kept: a dropped rule becomes one that covers no command."""
    narrowed = []
    for rule in rules:
        conditions = rule.arguments or {}
        kept = {name: values for name, values in conditions.items() if name.replace("-", "_") in selects}
        if len(kept) < len(conditions) and rule.deny:
            rule = rule.model_copy(update={"command": _NO_COMMAND})
        elif len(kept) < len(conditions):
            rule = rule.model_copy(update={"arguments": kept or None})
        narrowed.append(rule)
    return narrowed


def _selectable(names: Sequence[str]) -> tuple[str, ...] | None:
    """`names` as a select's options, or None (a text field) when Slack could not show them all."""
    if not names or len(names) > MAX_OPTIONS or any(len(name) > MAX_OPTION_VALUE for name in names):
        return None
    return tuple(names)


def _choices_of(spec: CommandSpec, dest: str) -> tuple[str, ...]:
    return tuple(next((a.choices for a in spec.arguments if a.dest == dest and a.choices), ()) or ())


def _view(form: Form, fields: tuple[Field, ...], request: SlashCommandRequest) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_PREFIX + form.command,
        "title": _plain(form.title),
        "submit": _plain(form.submit),
        "close": _plain("Cancel"),
        "notify_on_close": True,
        "private_metadata": json.dumps({"channel_id": request.channel_id, "channel_name": request.channel_name}),
        "blocks": [
            *(shown.block() for shown in fields),
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Runs `/ops {form.command}` as if you typed it in <#{request.channel_id}>: the "
                        "same rules, approvals, locks and freezes apply, and its answer comes there.",
                    }
                ],
            },
        ],
    }


def _place(metadata: str) -> tuple[str, str] | None:
    """The channel the form was opened from (`private_metadata`, written by `_view`); None if unreadable."""
    try:
        kept = json.loads(metadata) if metadata else None
    except ValueError:
        return None
    if not isinstance(kept, dict):
        return None
    channel, name = kept.get("channel_id"), kept.get("channel_name", "")
    if not isinstance(channel, str) or not _CHANNEL.fullmatch(channel) or not isinstance(name, str):
        return None
    return channel, name[:256]


def _missing(spec: CommandSpec, view: SubmittedView) -> dict[str, str]:
    """Required fields left empty, and values that would read as an option (`--env` typed as a branch)."""
    problems = {}
    for argument in spec.arguments:
        name = argument.name
        if name not in view.state.values:
            continue
        value = view.field(name)
        if argument.required and not value:
            problems[name] = "Required."
        elif value.startswith("-"):
            problems[name] = "Cannot start with “-”."
    return problems


def _request(submission: ViewSubmission, place: tuple[str, str], text: str) -> SlashCommandRequest:
    user = submission.user
    request = SlashCommandRequest(
        team_id=submission.team_id,
        team_domain=submission.team.domain if submission.team is not None else "",
        channel_id=place[0],
        channel_name=place[1],
        user_id=user.id,
        user_name=user.username or user.name,
        text=text,
        response_url=_NO_RESPONSE_URL,
        trigger_id=submission.trigger_id,
    )
    return request.model_copy(update={"response_url": ""})  # none: the notifier answers with the bot


def _field_errors(form: Form, spec: CommandSpec, refused: SlashopsError | None, view: SubmittedView) -> dict[str, str]:
    """A usage error about one of the form's fields, as Slack shows it under that field; {} for anything else."""
    if not isinstance(refused, UsageError):
        return {}
    under = form.shown_under.get(type(refused))
    if under is not None and under in view.state.values:
        return {under: _plain_text(refused.message)}
    for argument in spec.arguments:
        name = argument.name
        if name in view.state.values and code(argument.option) in refused.message:
            return {name: _plain_text(refused.message)}
    return {}


def _tell(submission: ViewSubmission, channel: str, answer: SlackMessage, deadline: Deadline, deps: IngressDeps) -> str:
    """The form closes and the answer is posted for the user in the channel; if Slack does not take it, the form
    shows the answer instead (the user must read what became of the command)."""
    payload = answer.payload()
    message = {"text": payload.get("text", ""), "blocks": payload.get("blocks") or []}
    if deps.views is not None:
        try:
            deps.views.post_ephemeral(channel, submission.user.id, message, deadline=deadline.within(POST_SECONDS))
            return ""
        except ViewsUnavailableError as error:
            logger.warning("a form's answer could not be posted in the channel, shown in the form: %s", error)
    return _replaced(submission.view, answer)


def _replaced(view: SubmittedView, answer: SlackMessage) -> str:
    """`response_action: update`: the form now shows `answer` (and only a Close button)."""
    blocks = [block for block in (answer.payload().get("blocks") or []) if block.get("type") in ("section", "context")]
    if not blocks:
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": answer.text or " "}}]
    shown = {
        "type": "modal",
        "title": _plain("slashops"),
        "close": _plain("Close"),
        "blocks": [_without_actions(block) for block in blocks[:50]],
    }
    return json.dumps({"response_action": "update", "view": shown})


def _without_actions(block: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in block.items() if key != "accessory"}


def _errors(problems: Mapping[str, str]) -> str:
    return json.dumps({"response_action": "errors", "errors": dict(problems)})


def _not_opened(spec: CommandSpec) -> SlashopsError:
    usage = " ".join(
        f"{a.option} <{a.metavar or a.dest}>" if a.required else f"[{a.option} <{a.metavar or a.dest}>]"
        for a in spec.arguments
        if a.option.startswith("--")
    )
    return SlashopsError(
        f"Slack did not open the {spec.name} form (it refused, or did not answer in time), so nothing was run.",
        title="Form not opened",
        hint=f"Type it instead: `/ops {spec.name} {usage}`. If the form opens after all, submitting it works.",
    )


def _unreadable() -> SlashopsError:
    return SlashopsError(
        "This form does not say where it was opened, so nothing was run.",
        title="Unreadable form",
        hint="Close it and type the command again.",
    )


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def _option(value: str) -> dict[str, Any]:
    return {"text": _plain(value), "value": value}


def _plain_text(mrkdwn: str) -> str:
    """An error under a field is plain text: the backticks around options and values go."""
    return mrkdwn.replace("`", "")[:300]
