"""Fixtures every test folder may use live in `tests/support/`; this registers the ones that are pytest plugins."""

pytest_plugins = ["tests.support.aws_servers"]
