"""slashops' in-repo library: event models, command specs, access config and Slack formatting.

Every service imports from here; nothing in this package talks to the network at import time.
"""
