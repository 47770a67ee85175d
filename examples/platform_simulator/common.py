"""What the simulator's platforms share (standard library only; imports none of them)."""

from __future__ import annotations

import secrets
import struct
import time
import zlib


def now_iso() -> str:
    """The current UTC time, ISO 8601 with milliseconds (sorts as text)."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def tiny_png(colour: bytes | None = None) -> bytes:
    """A valid 1x1 PNG of this RGB colour (random by default, so each file has its own hash)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = zlib.compress(b"\x00" + (colour or secrets.token_bytes(3)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")
    )
