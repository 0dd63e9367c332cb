"""Stream a dump into a multipart upload, and a stored backup back into a restore, with bounded memory.

Memory is a few parts (default 8 MiB each) whatever the database size; the SHA-256 is computed on the way. A part
is uploaded by a thread of its own while the next one is read, so the dump never waits for S3 unless a whole part
is already waiting: a backup takes about as long as the dump alone. The dump is read straight into the part's
buffer, which is what is uploaded: no byte of it is copied in Python.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Protocol

from services.backup.errors import ChecksumMismatch, Interrupted
from services.backup.ports import Upload

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
READ_SIZE = 256 * 1024
HEAD_SIZE = 4096  # kept for the engine to read the dump's header (the server's version)

Progress = Callable[[int], None]


class Readable(Protocol):
    """A dump's stdout (`io.BufferedReader`): `readinto` fills the buffer given, until it is full or the dump ends."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


@dataclass(frozen=True)
class Streamed:
    size: int
    sha256: str
    head: bytes = b""
    """The stream's first `HEAD_SIZE` bytes (all of it, if shorter)."""


def upload_stream(
    source: Readable,
    upload: Upload,
    *,
    part_size: int,
    stop: threading.Event,
    progress: Progress,
    observe: Callable[[memoryview], None] | None = None,
) -> Streamed:
    """Read `source` to its end into `upload` parts; the caller completes or aborts the upload.

    At most three parts are in memory: the one being read, one waiting and one being uploaded. `observe` sees every
    byte read, in order (the row counter of a dump that counts its rows from the stream).
    """
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"parts must be at least {MIN_PART_SIZE} bytes")
    digest, size, head = hashlib.sha256(), 0, b""
    seen = digest.update if observe is None else _both(digest.update, observe)
    with _PartUploader(upload) as uploader:
        for number in itertools.count(1):
            part = _read_part(source, part_size, seen, stop)
            size += len(part)
            if number == 1:
                head = bytes(part[:HEAD_SIZE])
            if len(part) < part_size:  # the dump's end
                if stop.is_set():  # it was killed because the worker is stopping: its output is incomplete
                    raise Interrupted()
                if part or number == 1:
                    uploader.put(number, part)
                break
            uploader.put(number, part)
            progress(size)
    return Streamed(size=size, sha256=digest.hexdigest(), head=head)


def _both(first: Callable[[memoryview], None], second: Callable[[memoryview], None]) -> Callable[[memoryview], None]:
    def both(data: memoryview) -> None:
        first(data)
        second(data)

    return both


def _read_part(
    source: Readable, part_size: int, hash_: Callable[[memoryview], None], stop: threading.Event
) -> bytearray:
    """Up to `part_size` bytes read into a buffer of their own (shorter only at the dump's end), hashed on the way."""
    part = bytearray(part_size)
    view, filled = memoryview(part), 0
    while filled < part_size:
        read = source.readinto(view[filled : filled + READ_SIZE])
        if not read:
            break
        if stop.is_set():
            raise Interrupted()
        hash_(view[filled : filled + read])
        filled += read
    view.release()
    del part[filled:]
    return part


class _PartUploader:
    """Uploads parts in order on one background thread, one part queued at most (so the reader waits, not memory).

    A failed upload ends the stream: the next `put`, or the end of the `with` block, raises its error. Leaving the
    block waits until every queued part is uploaded, or, when the block raised, until the part in flight is done.
    """

    def __init__(self, upload: Upload) -> None:
        self._upload = upload
        self._parts: queue.Queue[tuple[int, bytearray] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backup-upload", daemon=True)

    def __enter__(self) -> _PartUploader:
        self._thread.start()
        return self

    def put(self, number: int, data: bytearray) -> None:
        while True:
            self._raise_if_failed()
            try:
                self._parts.put((number, data), timeout=0.2)
                return
            except queue.Full:
                continue

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        if error is not None:
            self._abandoned.set()
        while self._thread.is_alive():
            try:
                self._parts.put(None, timeout=0.2)
                break
            except queue.Full:
                continue
        self._thread.join()
        if error is None:
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._parts.get()) is not None:
            if self._abandoned.is_set() or self._error is not None:
                continue  # drain until the end marker: the stream failed, nothing more is uploaded
            try:
                self._upload.upload_part(*item)
            except BaseException as error:  # handed to the reading thread, which raises it
                self._error = error


def verify_stream(chunks: Iterable[bytes], expected_sha256: str, *, stop: threading.Event) -> int:
    """Read a stored backup once, only to check it; returns its size."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        if stop.is_set():
            raise Interrupted()
        digest.update(chunk)
        size += len(chunk)
    _check(digest.hexdigest(), expected_sha256)
    return size


def feed_verified(
    chunks: Iterable[bytes],
    sink: IO[bytes],
    expected_sha256: str,
    *,
    stop: threading.Event,
    progress: Progress,
    holdback: int = 1024 * 1024,
) -> int:
    """Write `chunks` to `sink`, but hold the last `holdback` bytes back until the whole checksum matches.

    A restore tool cannot finish (and commit) an archive it has not seen the end of, so a corrupted backup
    is refused before the restore can complete. Raises `ChecksumMismatch` without writing the tail.
    """
    digest, size, held = hashlib.sha256(), 0, _Holdback(holdback)
    for chunk in chunks:
        if stop.is_set():
            raise Interrupted()
        digest.update(chunk)
        size += len(chunk)
        for ready in held.push(chunk):
            sink.write(ready)
        progress(size)
    _check(digest.hexdigest(), expected_sha256)
    sink.write(held.drain())
    return size


def _check(actual: str, expected: str) -> None:
    if actual != expected:
        raise ChecksumMismatch(actual, expected)


class _Holdback:
    """A FIFO that releases bytes only while more than `limit` remain buffered."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: deque[bytes] = deque()
        self.size = 0

    def push(self, chunk: bytes) -> list[bytes]:
        self.chunks.append(chunk)
        self.size += len(chunk)
        ready = []
        while self.chunks and self.size - len(self.chunks[0]) >= self.limit:
            first = self.chunks.popleft()
            self.size -= len(first)
            ready.append(first)
        return ready

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        self.size = 0
        return data
