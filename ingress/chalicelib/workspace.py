"""The workspace pin: with `slack.team_id` in the configuration, a request from any other Slack team is refused.

Checked at the edge for every signed request (commands and clicks), right after its form is read: a second
workspace that installed the same app (same signing secret) can then run nothing here.
"""

from __future__ import annotations

import logging

from chalicelib.deps import IngressDeps
from chalicelib.errors import OtherWorkspaceError
from shared.config.access import other_workspace
from shared.errors import ConfigurationError

logger = logging.getLogger(__name__)


def refuse_other_workspace(team_id: str, deps: IngressDeps) -> None:
    """Raises `OtherWorkspaceError` for a team the configuration does not serve.

    While the configuration is unusable the pin cannot be read: the request goes on, and everything after this
    that needs the configuration fails closed on it (only commands open to all, `help`, still answer).
    """
    try:
        config = deps.config.get()
    except ConfigurationError:
        return
    refusal = other_workspace(config, team_id)
    if refusal is None:
        return
    logger.warning("refused a request from another workspace", extra={"team_id": team_id[:64]})
    raise OtherWorkspaceError(
        refusal.reason,
        hint="This slashops is pinned to one Slack workspace (`slack.team_id` in its configuration); nothing was run.",
    )
