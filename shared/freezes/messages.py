"""What a deploy into a frozen environment is told, in the same words at the ingress (at once) and in the deploy
service (a deploy published just before the freeze landed): why, who froze it or which window, until when, what
next. mrkdwn; every value escaped here."""

from __future__ import annotations

from shared.freezes.models import Freeze, Verdict
from shared.slack.mrkdwn import code, mention, text

FREEZES = "`/ops freezes` lists every freeze."


def refusal(env: str, found: Verdict, *, ask_override: bool = False) -> tuple[str, str]:
    """The message and hint of a deploy refused for a freeze. `ask_override`: the freeze has an override the deploy
    was not held for (it landed after the deploy was sent): running it again asks for one."""
    freeze = found.freeze
    line = (
        f":snowflake: {code(env)} is frozen until {freeze.until} — {text(freeze.reason)} ({freeze.source()}). "
        "Nothing was started."
    )
    if found.overlapping:
        line += " Windows with different override approvers are open at once, so no single approval overrides them."
    if ask_override and freeze.override is not None:
        line += f" Ask {freeze.override.describe()} to approve an override: run the command again to ask."
    if freeze.scheduled:
        hint = (
            f"Deploy after {freeze.until}. A scheduled window is changed in `deploy.freezes` of the slashops "
            f"configuration; `/ops unfreeze` ends only `/ops freeze` freezes. {FREEZES}"
        )
    else:
        hint = (
            f"Ask {mention(freeze.by)}, or wait until then: `/ops unfreeze --env {env}` ends it (if the access rules "
            f"admit you to `unfreeze`). {FREEZES}"
        )
    return line, hint


def override_reason(freeze: Freeze) -> str:
    """Why an override is asked, in a sentence (the approval messages' `held_because`): which freeze, which window,
    until when. An approved override carries it, and passes only the freeze it names (the same text)."""
    return (
        f"overriding the freeze of {code(freeze.env)} ({text(freeze.reason)}; {freeze.source()}) until {freeze.until}"
    )
