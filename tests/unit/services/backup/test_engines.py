"""The server's version read from a dump's own header, so a backup needs no extra connection to the server."""

from __future__ import annotations

import pytest

from services.backup.adapters.engines import MySqlEngine, PostgresEngine

VERSION = "15.20 (Debian 15.20-0+deb12u1)"


def _int(value: int) -> bytes:
    return (b"\x01" if value < 0 else b"\x00") + abs(value).to_bytes(4, "little")


def _str(text: str) -> bytes:
    return _int(len(text)) + text.encode()


def _pg_dump_header(minor: int, server: str = VERSION) -> bytes:
    """As pg_dump's `WriteHead` writes it: archive 1.14 (PostgreSQL 12–15) has an int for the compression level,
    1.15 on (PostgreSQL 16 on) a byte for the compression algorithm."""
    compression = _int(-1) if minor < 15 else b"\x01"
    created = b"".join(_int(value) for value in (14, 11, 8, 29, 10, 126, 0))
    return (
        b"PGDMP"
        + bytes([1, minor, 0, 4, 8, 1])
        + compression
        + created
        + _str("orders")
        + _str(server)
        + _str("15.20")
        + b"\x05\x00\x00\x00\x00 the TOC and the data follow"
    )


@pytest.mark.parametrize("minor", [14, 15, 16])
def test_a_pg_dump_archive_names_its_server(minor: int) -> None:
    assert PostgresEngine().version_in_dump(_pg_dump_header(minor)) == VERSION


def test_what_pg_dump_15_wrote_is_read() -> None:
    """The first bytes of `pg_dump --format=custom` 15.20 of the database `postgres`."""
    head = bytes.fromhex(
        "5047444d50010e0004080101010000000022000000000c0000000008000000001d000000000a000000007e00000000000000000008"
        "000000706f737467726573001e00000031352e3230202844656269616e2031352e32302d302b6465623132753129001e000000"
        "31352e3230202844656269616e2031352e32302d302b646562313275312900"
    )
    assert PostgresEngine().version_in_dump(head) == VERSION


@pytest.mark.parametrize(
    "head",
    [b"", b"PGDMP\x01", _pg_dump_header(14)[:60], b"-- PostgreSQL database dump\n", _pg_dump_header(14, server="")],
    ids=["empty", "cut in the version", "cut in the strings", "a plain SQL dump", "no version"],
)
def test_a_head_that_does_not_name_the_server_gives_none(head: bytes) -> None:
    assert PostgresEngine().version_in_dump(head) is None


def test_a_mysqldump_header_names_its_server() -> None:
    head = (
        b"/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux"
        b"-gnu (x86_64)\n--\n-- Host: 127.0.0.1    Database: shop\n-- -------------------------------------------------"
        b"-----\n-- Server version\t10.11.19-MariaDB-0+deb12u1\n\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT */;\n"
    )
    assert MySqlEngine().version_in_dump(head) == "10.11.19-MariaDB-0+deb12u1"
    assert MySqlEngine().version_in_dump(b"/*!40101 SET NAMES utf8mb4 */;\n") is None
