"""`make run`'s state across restarts: the ledger and the other tables, the backups, the queued messages.

Neither local AWS keeps anything on disk here (moto's server is in memory; LocalStack's persistence is not in
its community runtime), so `make run` keeps it itself, through the same AWS APIs the services use: when it
stops it writes a snapshot into the state folder (default `.local/state`, or `SLASHOPS_STATE_DIR`); when it
starts, once the bus stack and the tables exist, it puts everything back. `make run FRESH=1` empties the
folder first.

    <state>/snapshot/meta.json       when it was written, and the counts
    <state>/snapshot/dynamodb.json   every item of every table, in DynamoDB's JSON (`{"S": ...}`)
    <state>/snapshot/sqs.json        every visible message of every `<prefix>-*` queue (body and attributes)
    <state>/snapshot/s3/<key>        every object of the backup bucket

The snapshot is for its owner only (folders 0700, files 0600; an older snapshot is made so when it is read), and
it holds no credential: every `response_url` (in a table item, in a JSON string attribute such as an approval's
request, in a queued event) is saved empty, and so is any other Slack `hooks.slack.com` URL. A response_url lets
anyone post as the app for 30 minutes; an empty one is what Slack never sends, so after a restart the services
answer through the bot instead (the notifier: `services/notifier/delivery.py`, an unusable response_url). The
deploy claims' `claim_token` is kept: a fencing token between the service's own deliveries, not a credential.
A snapshot is written to a temporary folder and renamed, so a stop that is interrupted leaves the previous one.
Messages a consumer held when `make run` stopped (in flight, invisible) cannot be read and are counted as not
kept; a restored message starts again at receive count 0. `kill -9` of `make run` writes nothing: the state
of the last clean stop comes back.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

SNAPSHOT = "snapshot"
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
CREDENTIAL_KEYS = frozenset({"response_url"})
"""Fields saved empty, wherever they are (a table item, a JSON string inside one, a queued message's body)."""
CREDENTIAL_PREFIXES = ("https://hooks.slack.com/",)
"""Values saved empty under any name: a Slack response_url or webhook is a bearer credential."""


@dataclass(frozen=True)
class Counts:
    items: int = 0
    objects: int = 0
    messages: int = 0
    not_kept: int = 0  # messages in flight or delayed when the snapshot was taken
    saved_at: str = ""

    def describe(self) -> str:
        text = f"{self.items} table item(s), {self.objects} backup object(s), {self.messages} queued message(s)"
        if self.not_kept:
            text += f"; {self.not_kept} message(s) in flight or delayed were not kept"
        return text


@dataclass(frozen=True)
class LocalStores:
    """What holds `make run`'s state: clients on its local AWS and the names of its tables, bucket and queues."""

    dynamodb: Any
    s3: Any
    sqs: Any
    tables: tuple[str, ...]
    bucket: str
    queue_prefix: str


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__base64__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {key: _encode(each) for key, each in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_encode(each) for each in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__base64__"}:
            return base64.b64decode(value["__base64__"])
        return {key: _decode(each) for key, each in value.items()}
    if isinstance(value, list):
        return [_decode(each) for each in value]
    return value


def without_credentials(value: Any) -> Any:
    """`value` (DynamoDB JSON, a decoded JSON document, or a string holding one) with every credential emptied."""
    if isinstance(value, str):
        return _string_without_credentials(value)
    if isinstance(value, Mapping):
        return {
            key: _empty(each) if key in CREDENTIAL_KEYS else without_credentials(each) for key, each in value.items()
        }
    if isinstance(value, list):
        return [without_credentials(each) for each in value]
    return value


def _string_without_credentials(text: str) -> str:
    """A credential is emptied; a JSON document (an approval's request, a queued event) is cleaned inside, and
    left exactly as it was when it holds none."""
    if text.startswith(CREDENTIAL_PREFIXES):
        return ""
    if not text.startswith(("{", "[")):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        return text
    cleaned = without_credentials(document)
    return text if cleaned == document else json.dumps(cleaned, separators=(",", ":"))


def _empty(value: Any) -> Any:
    """An emptied credential, in the shape it had: DynamoDB JSON (`{"S": ""}`) or a plain string."""
    if isinstance(value, Mapping) and set(value) == {"S"}:
        return {"S": ""}
    return "" if isinstance(value, str) else value


def _write_private(path: Path, data: bytes | str) -> None:
    """Create (or truncate) `path` readable and writable by its owner only, whatever the umask."""
    raw = data.encode() if isinstance(data, str) else data
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), PRIVATE_FILE)  # an existing file keeps its mode through os.open
        file.write(raw)


def _private_folder(path: Path) -> None:
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    path.chmod(PRIVATE_FOLDER)


def make_private(folder: Path) -> None:
    """A snapshot written before snapshots were private (0644): its folders 0700 and its files 0600."""
    snapshot = folder / SNAPSHOT
    if not snapshot.is_dir():
        return
    snapshot.chmod(PRIVATE_FOLDER)
    for path in snapshot.rglob("*"):
        path.chmod(PRIVATE_FOLDER if path.is_dir() else PRIVATE_FILE)


# --- save --------------------------------------------------------------------------------------------------


def save(stores: LocalStores, folder: Path, *, settle: float = 3.0) -> Counts:
    """Write the snapshot of `stores` into `folder` (replacing the previous one once complete)."""
    staging = folder / f"{SNAPSHOT}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    _private_folder(staging / "s3")
    staging.chmod(PRIVATE_FOLDER)
    tables = {table: [without_credentials(item) for item in _scan(stores.dynamodb, table)] for table in stores.tables}
    _write_private(staging / "dynamodb.json", json.dumps(_encode(tables)))
    objects = _download(stores.s3, stores.bucket, staging / "s3")
    queues, not_kept = _drain_queues(stores.sqs, stores.queue_prefix, settle=settle)
    _write_private(staging / "sqs.json", json.dumps(without_credentials(queues)))
    counts = Counts(
        items=sum(len(items) for items in tables.values()),
        objects=objects,
        messages=sum(len(messages) for messages in queues.values()),
        not_kept=not_kept,
        saved_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    )
    _write_private(staging / "meta.json", json.dumps(asdict(counts), indent=2) + "\n")
    target = folder / SNAPSHOT
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return counts


def _scan(dynamodb: Any, table: str) -> Iterable[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        yield from page.get("Items", [])


def _download(s3: Any, bucket: str, into: Path) -> int:
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            path = _object_path(into, entry["Key"])
            if path is None:
                continue
            _private_folder(path.parent)
            _write_private(path, s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
            count += 1
    return count


def _object_path(root: Path, key: str) -> Path | None:
    """The file for an S3 key, or None for a key that would leave the folder (`..`) or name a folder."""
    parts = PurePosixPath(key).parts
    if not parts or key.endswith("/") or any(part in ("..", "/") for part in parts):
        return None
    return root.joinpath(*parts)


def _drain_queues(sqs: Any, prefix: str, *, settle: float) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Every visible message of every queue named `<prefix>...`, by queue name; and how many could not be read."""
    urls = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    _wait_for_delayed(sqs, urls, settle)
    kept: dict[str, list[dict[str, Any]]] = {}
    not_kept = 0
    for url in urls:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        not_kept += _invisible(sqs, url)  # before our own receives hide what they read
        kept[name] = _receive_all(sqs, url)
    return kept, not_kept


def _receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=120,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [message for message in batch if message["MessageId"] not in messages]
        if not fresh:
            return list(messages.values())
        for message in fresh:
            kept = {"MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                kept["MessageAttributes"] = message["MessageAttributes"]
            messages[message["MessageId"]] = kept


def _invisible(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names).get("Attributes", {})
    held = int(attributes.get(names[0], 0)) + int(attributes.get(names[1], 0))
    return max(0, held)


def _wait_for_delayed(sqs: Any, urls: list[str], settle: float) -> None:
    """Delayed messages (the deploy service's follow-ups: a second or two) become visible, then are kept."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        delayed = 0
        for url in urls:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
            delayed += int(attributes.get("Attributes", {}).get("ApproximateNumberOfMessagesDelayed", 0))
        if not delayed:
            return
        time.sleep(0.3)


# --- restore -----------------------------------------------------------------------------------------------


def restore(stores: LocalStores, folder: Path) -> Counts | None:
    """Put the snapshot in `folder` back into `stores` (freshly provisioned); None when there is none."""
    from botocore.exceptions import ClientError

    snapshot = folder / SNAPSHOT
    if not (snapshot / "meta.json").exists():
        return None
    make_private(folder)
    saved = json.loads((snapshot / "meta.json").read_text())
    tables: dict[str, list[dict[str, Any]]] = without_credentials(
        _decode(json.loads((snapshot / "dynamodb.json").read_text()))
    )  # an older snapshot's response_urls are not put back either
    items = 0
    for table, rows in tables.items():
        if table not in stores.tables:
            continue
        for row in rows:
            stores.dynamodb.put_item(TableName=table, Item=row)
            items += 1
    objects = 0
    root = snapshot / "s3"
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stores.s3.put_object(Bucket=stores.bucket, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())
        objects += 1
    messages = 0
    queues: dict[str, list[dict[str, Any]]] = without_credentials(json.loads((snapshot / "sqs.json").read_text()))
    for name, kept in queues.items():
        if not kept:
            continue
        try:
            url = stores.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError:  # a queue infra/bus.yaml no longer declares: its messages have nowhere to go
            continue
        for start in range(0, len(kept), 10):
            entries = [{"Id": str(index), **message} for index, message in enumerate(kept[start : start + 10])]
            sent = stores.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            messages += len(sent.get("Successful", []))
    return Counts(items, objects, messages, int(saved.get("not_kept", 0)), str(saved.get("saved_at", "")))


def clear(folder: Path) -> bool:
    """`FRESH=1`: forget the saved state; whether there was any."""
    existed = (folder / SNAPSHOT).exists()
    shutil.rmtree(folder / SNAPSHOT, ignore_errors=True)
    shutil.rmtree(folder / f"{SNAPSHOT}.partial", ignore_errors=True)
    return existed
