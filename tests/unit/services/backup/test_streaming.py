from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import tracemalloc

import pytest

from services.backup.errors import ChecksumMismatch, Interrupted
from services.backup.streaming import HEAD_SIZE, MIN_PART_SIZE, feed_verified, upload_stream


class RecordingUpload:
    def __init__(self) -> None:
        self.parts: list[tuple[int, int]] = []

    def upload_part(self, number: int, data: bytes | bytearray) -> None:
        self.parts.append((number, len(data)))

    def complete(self) -> None:  # pragma: no cover - not used here
        pass

    def abort(self) -> None:  # pragma: no cover - not used here
        pass


def test_parts_are_fixed_size_except_the_last_and_the_checksum_covers_everything() -> None:
    data = os.urandom(2 * MIN_PART_SIZE + 12345)
    upload = RecordingUpload()
    seen: list[int] = []
    result = upload_stream(
        io.BytesIO(data), upload, part_size=MIN_PART_SIZE, stop=threading.Event(), progress=seen.append
    )
    assert upload.parts == [(1, MIN_PART_SIZE), (2, MIN_PART_SIZE), (3, 12345)]
    assert result.size == len(data) and result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.head == data[:HEAD_SIZE]
    assert seen and seen[-1] <= len(data)


def test_at_most_three_parts_are_in_memory_however_long_the_dump() -> None:
    """The one being read, one waiting, one being uploaded: the dump is read into the part that is uploaded."""
    data = os.urandom(6 * MIN_PART_SIZE + 10)

    class SlowUpload(RecordingUpload):  # S3 slower than the dump: the reader is always a part ahead
        def upload_part(self, number: int, data: bytes | bytearray) -> None:
            time.sleep(0.05)
            super().upload_part(number, data)

    upload = SlowUpload()
    tracemalloc.start()
    try:
        result = upload_stream(
            io.BytesIO(data), upload, part_size=MIN_PART_SIZE, stop=threading.Event(), progress=lambda _: None
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.sha256 == hashlib.sha256(data).hexdigest() and len(upload.parts) == 7
    assert peak <= 3 * MIN_PART_SIZE + 1024 * 1024


def test_an_empty_dump_is_still_one_part() -> None:
    upload = RecordingUpload()
    upload_stream(io.BytesIO(b""), upload, part_size=MIN_PART_SIZE, stop=threading.Event(), progress=lambda _: None)
    assert upload.parts == [(1, 0)]


def test_parts_below_s3s_minimum_are_refused() -> None:
    with pytest.raises(ValueError):
        upload_stream(io.BytesIO(b"x"), RecordingUpload(), part_size=1024, stop=threading.Event(), progress=print)


def test_stop_interrupts_the_upload() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(Interrupted):
        upload_stream(io.BytesIO(b"x" * 10), RecordingUpload(), part_size=MIN_PART_SIZE, stop=stop, progress=print)


class _Pipe(io.RawIOBase):
    """A dump's stdout: `data`, with an event set once the reader is past `mark` bytes."""

    def __init__(self, data: bytes, mark: int) -> None:
        self.data, self.offset, self.mark = data, 0, mark
        self.past_mark = threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self.data[self.offset : self.offset + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.offset += len(chunk)
        if self.offset > self.mark:
            self.past_mark.set()
        return len(chunk)


def test_the_next_part_is_read_while_a_part_uploads() -> None:
    """Part 1's upload only finishes once the dump has been read into part 2: reading and uploading overlap."""
    pipe = _Pipe(os.urandom(2 * MIN_PART_SIZE + 10), mark=MIN_PART_SIZE + 1)
    overlapped: list[bool] = []

    class SlowUpload(RecordingUpload):
        def upload_part(self, number: int, data: bytes | bytearray) -> None:
            if number == 1:
                overlapped.append(pipe.past_mark.wait(timeout=5))
            super().upload_part(number, data)

    upload = SlowUpload()
    source = io.BufferedReader(pipe)
    upload_stream(source, upload, part_size=MIN_PART_SIZE, stop=threading.Event(), progress=lambda _: None)
    assert overlapped == [True]
    assert upload.parts == [(1, MIN_PART_SIZE), (2, MIN_PART_SIZE), (3, 10)]


def test_a_failed_part_upload_ends_the_stream_with_its_error_and_nothing_more_is_uploaded() -> None:
    class FailingUpload(RecordingUpload):
        def upload_part(self, number: int, data: bytes | bytearray) -> None:
            if number == 2:
                raise ConnectionError("S3 went away")
            super().upload_part(number, data)

    upload = FailingUpload()
    with pytest.raises(ConnectionError, match="S3 went away"):
        upload_stream(
            io.BytesIO(os.urandom(5 * MIN_PART_SIZE)),
            upload,
            part_size=MIN_PART_SIZE,
            stop=threading.Event(),
            progress=lambda _: None,
        )
    assert upload.parts == [(1, MIN_PART_SIZE)]


def test_a_stop_while_a_part_uploads_interrupts_and_leaves_no_upload_running() -> None:
    stop = threading.Event()

    class StoppingUpload(RecordingUpload):
        def upload_part(self, number: int, data: bytes | bytearray) -> None:
            stop.set()  # the worker is told to stop while part 1 is in flight
            super().upload_part(number, data)

    upload = StoppingUpload()
    with pytest.raises(Interrupted):
        upload_stream(
            io.BytesIO(os.urandom(4 * MIN_PART_SIZE)), upload, part_size=MIN_PART_SIZE, stop=stop, progress=print
        )
    assert upload.parts[:1] == [(1, MIN_PART_SIZE)] and len(upload.parts) <= 2
    assert not [t for t in threading.enumerate() if t.name == "backup-upload"]


def _chunks(data: bytes, size: int = 1000) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_verified_stream_is_written_whole() -> None:
    data = os.urandom(50_000)
    sink = io.BytesIO()
    feed_verified(
        _chunks(data),
        sink,
        hashlib.sha256(data).hexdigest(),
        stop=threading.Event(),
        progress=lambda _: None,
        holdback=4096,
    )
    assert sink.getvalue() == data


def test_a_corrupted_stream_never_delivers_its_end() -> None:
    data = os.urandom(50_000)
    sink = io.BytesIO()
    with pytest.raises(ChecksumMismatch):
        feed_verified(_chunks(data), sink, "0" * 64, stop=threading.Event(), progress=lambda _: None, holdback=4096)
    written = sink.getvalue()
    assert data.startswith(written) and len(data) - len(written) >= 4096
