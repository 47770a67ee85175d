"""The stream's subscriptions: every shown event becomes a record of its transaction.

In the transaction each record is collected on the session (folded with the transaction's
others). Then, by database:
- PostgreSQL: just before commit, one statement `SELECT pg_notify(...)` per transaction sends
  them (in chunks under 8,000 bytes). NOTIFY is transactional: delivered only on commit, to
  every listening process, in commit order. Every process that writes (serve, `rolodex
  worker`, the CLI) sends; every serving process listens (stream/listener.py).
- SQLite (one serving process): after commit, the records go to this process's brokers of
  that database file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from rolodex.kit.events import Event, Registry
from rolodex.stream.records import EVENT_TYPES, Record, chunks, merge, record_of

CHANNEL = "rolodex_stream"
_PENDING = "rolodex.stream.pending"

Sink = Callable[[list[Record]], None]
# SQLite database file → the brokers of this process serving it (see attach_local).
_local: dict[str, list[Sink]] = {}


def register(registry: Registry) -> None:
    """Collect a record for every event the stream shows, in the emitter's transaction."""
    for event_type in EVENT_TYPES:
        registry.on(event_type, collect)


async def collect(session: AsyncSession, event: Event) -> None:
    """Keep the event's record on the session until its transaction commits."""
    record = record_of(event)
    if record is not None:
        merge(session.sync_session.info.setdefault(_PENDING, []), record)


def sqlite_key(url: str) -> str | None:
    """The database file a SQLite URL names (None: not SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return str(parsed.database or "")


def attach_local(url: str, sink: Sink) -> Callable[[], None]:
    """Receive the records committed in this process on this SQLite database; returns a detach."""
    key = sqlite_key(url)
    assert key is not None, "only SQLite needs in-process delivery"
    _local.setdefault(key, []).append(sink)

    def detach() -> None:
        sinks = _local.get(key, [])
        if sink in sinks:
            sinks.remove(sink)
        if not sinks:
            _local.pop(key, None)

    return detach


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # A savepoint's commit is not the transaction's: the outer commit sends.
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return
    if _dialect(session) != "postgresql":
        return
    records: list[Record] = session.info.pop(_PENDING)
    payloads = list(chunks(records))
    # One round trip for the whole transaction; the greenlet of AsyncSession.commit runs it.
    params: dict[str, Any] = {f"p{n}": payload for n, payload in enumerate(payloads)}
    session.execute(_notify_statement(len(payloads)), params)


@functools.cache
def _notify_statement(chunks: int) -> TextClause:
    # Built once per number of chunks (nearly always 1): every writing transaction sends one.
    calls = ", ".join(f"pg_notify('{CHANNEL}', :p{n})" for n in range(chunks))
    return text(f"SELECT {calls}")


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # A savepoint's release fires this too: sent before the transaction commits, a payload
    # would be read from the rows as they were (the intake's savepoint per delivery).
    if session.in_nested_transaction():
        return
    records: list[Record] | None = session.info.pop(_PENDING, None)
    if not records:
        return
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    url = bind.engine.url.render_as_string(hide_password=False)
    for sink in list(_local.get(sqlite_key(url) or "", ())):
        sink(records)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction's other records stay (see kit/events.py)
    session.info.pop(_PENDING, None)
