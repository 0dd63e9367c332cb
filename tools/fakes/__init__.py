"""Local servers that speak Slack's and Jenkins' HTTP APIs, for tests and `make run`'s defaults."""
