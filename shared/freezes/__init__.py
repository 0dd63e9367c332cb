"""Freezes: when deploys and rollbacks into an environment are refused, or held for an override (`models`)."""
