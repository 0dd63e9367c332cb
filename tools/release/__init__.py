"""From the tree to AWS: build each unit's artifact, deploy its stack, and write the files derived from the catalog
(`infra/bus.yaml`'s routes, the Slack app manifest, the docs' command reference)."""
