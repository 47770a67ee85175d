"""Files of messages (inbound, replies, platforms' media): decoded and size-checked before any
write, then stored content-addressed under data_dir/attachments/<sha256[:2]>/<sha256> (one copy
per content). Shared by the domains that take files; it knows none of them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from babel.numbers import format_decimal

from rolodex import i18n
from rolodex.errors import InvalidInput, PayloadTooLarge, field_error
from rolodex.i18n import _


class EncodedFile(Protocol):
    """A file as a request body carries it: its name, type and base64 content."""

    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def content_base64(self) -> str: ...


@dataclass(frozen=True)
class DecodedFile:
    """An attachment's bytes with its metadata and content hash."""

    filename: str
    content_type: str
    data: bytes
    sha256: str


def size_text(size: int) -> str:
    """A number of bytes as people read it, in their language: "10 MB", "1,5 MB", "512 bytes"."""
    locale = i18n.current_locale()
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            amount = format_decimal(round(size / scale, 1), format="#,##0.#", locale=locale)
            return f"{amount} {unit}"
    return _("%(size)s bytes", size=format_decimal(size, locale=locale))


def _too_large(index: int, max_bytes: int) -> PayloadTooLarge:
    field = f"attachments.{index}.content_base64"
    message = _(
        "This file is too large: attach files of at most %(size)s.", size=size_text(max_bytes)
    )
    return PayloadTooLarge(
        f"{field}: {message}",
        errors=[field_error(field, message, "too_large")],
        code="attachment_too_large",
        extra={"max_bytes": max_bytes},
    )


def decode_all(attachments: Sequence[EncodedFile], max_bytes: int) -> list[DecodedFile]:
    """Every attachment decoded; 413 for one over max_bytes, 422 for one that is not base64."""
    out = []
    for index, attachment in enumerate(attachments):
        encoded = "".join(attachment.content_base64.split())
        # Refuse by the encoded length first: never decode a huge body only to reject it.
        if len(encoded) // 4 * 3 - encoded[-2:].count("=") > max_bytes:
            raise _too_large(index, max_bytes)
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput.for_field(
                f"attachments.{index}.content_base64",
                _("This file's content is not valid base64: send it base64 encoded."),
            ) from exc
        if len(data) > max_bytes:
            raise _too_large(index, max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        out.append(DecodedFile(attachment.filename, attachment.content_type, data, sha))
    return out


def path_for(data_dir: Path, sha256: str) -> Path:
    """Where the bytes of this content hash live."""
    return data_dir / "attachments" / sha256[:2] / sha256


def store(data_dir: Path, files: Sequence[DecodedFile]) -> None:
    """Write each file once (blocking: run it in a thread); a concurrent writer is harmless."""
    for file in files:
        target = path_for(data_dir, file.sha256)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write aside then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(file.data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
