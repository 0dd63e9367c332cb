"""What the worker writes beside each backup and restore, where, and the database a command names."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events.models import CommandRequested


class Manifest(BaseModel):
    """Written only after the upload completed: a backup without one does not exist."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1
    backup_id: str
    database: str
    engine: str
    server_version: str
    object_key: str
    size_bytes: int
    sha256: str
    created_by: str
    command_id: str
    started_at: datetime
    finished_at: datetime

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class RestoreRecord(BaseModel):
    """Written after a restore finished: a redelivery of the same command finds it and does not restore again."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1
    command_id: str
    database: str
    backup_id: str
    restored_by: str
    started_at: datetime
    finished_at: datetime


def backup_id_for(database: str, started_at: datetime, command_id: str) -> str:
    """Sortable and readable: `orders-20261128T101500Z-3f9c2a`."""
    return f"{database}-{started_at.strftime('%Y%m%dT%H%M%SZ')}{backup_id_suffix(command_id)}"


def backup_id_suffix(command_id: str) -> str:
    """How the id of every backup the command makes ends, so a store can find its backup without reading them all."""
    return f"-{command_id[:6]}"


def object_key(database: str, backup_id: str) -> str:
    return f"backups/{database}/{backup_id}.dump"


def restore_record_key(database: str, command_id: str) -> str:
    return f"restores/{database}/{command_id}.json"


def job_database(request: CommandRequested) -> str:
    value = request.arguments.get("db")
    return str(value) if value else ""
