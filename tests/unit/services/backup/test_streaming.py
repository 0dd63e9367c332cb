from __future__ import annotations

import hashlib
import io
import os
import threading

import pytest

from services.backup.errors import ChecksumMismatch, Interrupted
from services.backup.streaming import MIN_PART_SIZE, feed_verified, upload_stream


class RecordingUpload:
    def __init__(self) -> None:
        self.parts: list[tuple[int, int]] = []

    def upload_part(self, number: int, data: bytes) -> None:
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
    assert seen and seen[-1] <= len(data)


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
