"""The embedded local defaults `make run` and `slashops send` share (never used in AWS)."""

from __future__ import annotations

DEFAULT_INGRESS_PORT = 8000
LOCAL_SIGNING_SECRET = "slashops-local-signing-secret"  # a documented, local-only value
LOCAL_BOT_TOKEN = "xoxb-slashops-local"  # accepted by the embedded fake Slack only
