"""The backup worker: database backup, restore and listing, streamed to and from S3 (runs on ECS)."""
