"""The embedded local defaults `make run` and `slashops send` share (never used in AWS)."""

from __future__ import annotations

DEFAULT_INGRESS_PORT = 8000
LOCAL_SIGNING_SECRET = "slashops-local-signing-secret"  # a documented, local-only value
LOCAL_BOT_TOKEN = "xoxb-slashops-local"  # accepted by the embedded fake Slack only
LOCAL_USERS = (
    "U0LOCAL:local.user:local.user@example.com",
    "U0APPROVER:approver:approver@example.com",
    "U0LEAD:lead:lead@example.com",
    "U0DEV1:dev.one:dev.one@example.com",
    "U0DEV2:dev.two:dev.two@example.com",
    "U0DBALEAD:dba.lead:dba.lead@example.com",
)
"""The embedded fake Slack's users (ID:name:email): rules may name them, and Slack resolves the names to these IDs."""
LOCAL_CHANNELS = ("C0LOCAL:local", "C0DEPLOYS:deploys", "C0RANDOM:random")
"""The embedded fake Slack's channels (ID:name)."""
STATE_FILE_NAME = "make-run.json"
"""What `make run` writes under `.local/` while it runs: its endpoints and ports, for the operator commands."""


def local_name(user_id: str) -> str:
    """The user name the embedded fake Slack gives `user_id` (what Slack would send as `user_name`), or ""."""
    return next((entry.split(":")[1] for entry in LOCAL_USERS if entry.split(":")[0] == user_id), "")


def local_channel_name(channel_id: str) -> str:
    return next((entry.split(":")[1] for entry in LOCAL_CHANNELS if entry.split(":")[0] == channel_id), "")
