"""The ingress' logic; `app.py` only routes to it."""
