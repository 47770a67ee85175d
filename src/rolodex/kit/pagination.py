"""Keyset pagination with opaque cursors (a base64 JSON list of the last row's sort values)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rolodex.errors import InvalidInput

T = TypeVar("T")


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the given sort-key values."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort-key values of a cursor; a malformed cursor is a 422 on `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.for_field("query.cursor", "Malformed cursor.") from exc
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInput.for_field("query.cursor", "Malformed cursor.")
    return values


async def id_page(
    session: AsyncSession,
    stmt: Select[T],
    id_column: InstrumentedAttribute[str],
    *,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> tuple[list[T], str | None]:
    """One page of a query ordered by its (time-sortable) id, and the cursor of the next page."""
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        stmt = stmt.where(id_column < str(after) if newest_first else id_column > str(after))
    order = id_column.desc() if newest_first else id_column.asc()
    rows = list((await session.execute(stmt.order_by(order).limit(limit + 1))).scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([getattr(rows[-1], id_column.key)])
