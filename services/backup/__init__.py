"""The backup worker: database backup, restore and listing, streamed to and from S3 (runs on ECS).

`handler.py` (process entry) → `serving.py` (the queue loop) → `consumer.py` (message → use case, the shared
checks) → `backing_up.py` / `listing.py` / `restoring.py`; `deps.py` wires `adapters/` to `ports.py`.
"""
