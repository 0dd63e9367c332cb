"""The real adapters: S3, SQS, and the database client tools run as subprocesses."""
