"""What of a build's console may leave the deploy service: its last lines, readable, with secrets masked.

The tail becomes the final event's `output`, and the event is the boundary: what it carries reaches the bus, the
notifier and Slack. Jenkins masks the credentials it binds itself (`withCredentials`); `mask_secrets` masks what
Jenkins cannot know about, keeping what names each secret (`PASSWORD=****`, `https://deployer:****@host`) so the
line still reads. When in doubt a value is masked: a hidden word costs less than a leaked token.
"""

from __future__ import annotations

import re

MASK = "****"
MAX_CHARACTERS = 10_000
"""The tail kept in the event (its end): more than Slack shows, far below what EventBridge accepts (256 KB)."""

_TERMINAL = re.compile(r"\x1b\[8mha:\S*?\x1b\[0m|\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
"""Jenkins' hidden console notes and terminal colour codes: noise in Slack, and they could split a secret."""

_KEY_MARK = r"-----{0} [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_KEY_BEGIN = re.compile(_KEY_MARK.format("BEGIN"))
_KEY_END = re.compile(_KEY_MARK.format("END"))
_KEY_ON_ONE_LINE = re.compile(f"({_KEY_BEGIN.pattern}).*?({_KEY_END.pattern})")
"""A key printed on one line, as JSON prints it (`"private_key": "-----BEGIN …\\n…"`)."""

_NAME = r"[A-Za-z0-9_.\-]"
_SECRET_WORD = r"(?:secret|token|passw(?:or)?d|passphrase|pwd|api[_-]?key|private[_-]?key|credential)"
_WORD = r"(?:[^\s&\"']|(?<=\w)[\"'](?=\w))+"
"""An unquoted value: up to a space, `&` (the next URL parameter) or a quote that closes it."""
_QUOTED = r"\"[^\"\n]*\"|'[^'\n]*'"

_ASSIGNMENT = re.compile(
    rf"""
    (?<!{_NAME})
    (?P<key>
        (?P<open>["'])?
        (?P<name>{_NAME}{{0,64}}{_SECRET_WORD}{_NAME}{{0,64}})             # bounded: linear on long runs
        (?(open)(?P=open))
        (?:
            [ \t]*=>?[ \t]*(?P<assigned>{_QUOTED}|{_WORD})                    # KEY=value, key => value
          | (?(open)[ \t]*|):[ \t]+(?P<said>{_QUOTED}|{_WORD}(?=["']|[,;)\]}}]*[ \t\r]*$))  # KEY: value
          | (?(open)[ \t]*:[ \t]*(?P<json>{_QUOTED})|(?!))                       # "key":"value"
        )
    )
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
"""`KEY=value` and `KEY: value` for keys named like secrets. After a colon only a value that ends its line or its
quotes (or is quoted) counts: "could not refresh token: connection refused" is a sentence, `TOKEN: abc` is not."""

_OPTION = re.compile(
    rf"(?P<before>(?<!\S)--?{_NAME}{{0,64}}{_SECRET_WORD}{_NAME}{{0,64}}[ \t]+)(?P<value>{_QUOTED}|(?!-)[^\s\"']+)",
    re.IGNORECASE,
)
"""A command-line option named like a secret and its value as the next word: `--password hunter2`,
`--api-key "abc"` (`--token=abc` is an assignment above)."""

_WORKING_DIRECTORY = frozenset({"pwd", "oldpwd"})
"""`PWD` in an environment dump is the shell's directory, not a password."""

_URL_PASSWORD = re.compile(r"(?P<before>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:/@]*:)[^\s/?#]+(?=@)")
_AUTHORIZATION = re.compile(
    r"(?P<before>\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
    r"(?:(?:bearer|basic|token|digest|negotiate)[ \t]+)?)[^\s\"']+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<before>\bbearer[ \t]+)(?=\S*\d)[A-Za-z0-9._~+/\-]{8,}=*", re.IGNORECASE)
_TOKENS = (
    re.compile(r"\b(?P<before>xox[abprs]-|xapp-)[A-Za-z0-9-]{8,}"),
    re.compile(r"\b(?P<before>gh[pousr]_)[A-Za-z0-9]{20,}"),
    re.compile(r"\b(?P<before>github_pat_)[A-Za-z0-9_]{20,}"),
    re.compile(r"\b(?P<before>AKIA|ASIA)[0-9A-Z]{16}\b"),
)
"""Tokens recognisable by their shape, wherever they stand: Slack's, GitHub's, AWS access key ids."""
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


def shown_tail(console: str) -> str:
    """The console's tail as it may leave the service: without terminal codes, masked, at most MAX_CHARACTERS.

    Masked before it is cut, so a cut never leaves half a secret that no longer looks like one.
    """
    masked = mask_secrets(_TERMINAL.sub("", console))
    if len(masked) <= MAX_CHARACTERS:
        return masked
    return "…" + masked[-(MAX_CHARACTERS - 1) :]


def mask_secrets(text: str) -> str:
    """`text` with each value that looks like a secret replaced by `****`, what names it kept."""
    text = _mask_private_keys(text)
    text = _URL_PASSWORD.sub(rf"\g<before>{MASK}", text)
    text = _AUTHORIZATION.sub(rf"\g<before>{MASK}", text)
    text = _ASSIGNMENT.sub(_masked_assignment, text)
    text = _OPTION.sub(_masked_option, text)
    text = _BEARER.sub(rf"\g<before>{MASK}", text)
    for token in _TOKENS:
        text = token.sub(rf"\g<before>{MASK}", text)
    return _JWT.sub(MASK, text)


def _masked_assignment(match: re.Match[str]) -> str:
    if match["name"].lower().lstrip("-$") in _WORKING_DIRECTORY:
        return match[0]
    group = next(name for name in ("assigned", "said", "json") if match[name] is not None)
    value = match[group]
    shown = f"{value[0]}{MASK}{value[0]}" if value[0] in "\"'" and len(value) > 1 else MASK
    start, end = match.span(group)
    return match[0][: start - match.start()] + shown + match[0][end - match.start() :]


def _masked_option(match: re.Match[str]) -> str:
    value = match["value"]
    shown = f"{value[0]}{MASK}{value[0]}" if value[0] in "\"'" and len(value) > 1 else MASK
    return match["before"] + shown


def _mask_private_keys(text: str) -> str:
    """PEM private keys, their body replaced by one `****` line; a tail that starts or ends inside a key (its
    BEGIN or END line cut off, or never printed) has that part masked too."""
    text = _KEY_ON_ONE_LINE.sub(rf"\1{MASK}\2", text)
    lines = text.split("\n")
    inside = _starts_inside_a_key(lines)
    kept: list[str] = []
    for line in lines:
        opens, closes = _KEY_BEGIN.search(line), _KEY_END.search(line)
        if opens and closes:  # masked on its line above
            kept.append(line)
        elif inside and closes:
            kept.append(line[closes.start() :])
            inside = False
        elif inside:
            if not kept or kept[-1] != MASK:
                kept.append(MASK)
        elif opens:
            kept.append(line[: opens.end()])
            inside = True
        else:
            kept.append(line)
    return "\n".join(kept)


def _starts_inside_a_key(lines: list[str]) -> bool:
    """Whether the first key marker (not on a one-line key) is an END: the tail begins in a key's body."""
    for line in lines:
        opens, closes = _KEY_BEGIN.search(line), _KEY_END.search(line)
        if opens and closes:
            continue
        if opens or closes:
            return bool(closes)
    return False
