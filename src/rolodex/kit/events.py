"""Domain events: small typed records that a service emits, and the subscribers that react.

A domain owns the events it emits (its `events.py`); a domain that reacts subscribes from its
own `subscribers.py`, registered once at start (`rolodex.subscriptions`). Two phases:
- in the transaction: awaited inside `emit`, with the emitter's session, so what it writes
  commits or rolls back with the change (group membership, routing, outbox jobs);
- after commit: called synchronously once the transaction has committed, never after a
  rollback (waking workers, the live stream). They must not block: schedule, don't await.
Handlers of a base class also receive its subclasses' events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

E = TypeVar("E", bound="Event")
InTransaction = Callable[[AsyncSession, Any], Awaitable[None]]
AfterCommit = Callable[[Any], None]

_PENDING = "rolodex.events.pending"


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event: it happened in one workspace."""

    workspace_id: str


class Registry:
    """Who reacts to which event, in which phase."""

    def __init__(self) -> None:
        self._in_transaction: dict[type[Event], list[InTransaction]] = {}
        self._after_commit: dict[type[Event], list[AfterCommit]] = {}

    def on(
        self, event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]
    ) -> None:
        """React inside the emitter's transaction."""
        handlers = self._in_transaction.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)

    def after_commit(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """React once the emitter's transaction has committed."""
        handlers = self._after_commit.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)

    def clear(self) -> None:
        """Forget every subscription (tests that register their own)."""
        self._in_transaction.clear()
        self._after_commit.clear()

    async def emit(self, session: AsyncSession, event: Event) -> None:
        """Keep the event for the after-commit handlers, then run the in-transaction ones now."""
        # Kept first: an event a handler emits in reaction (a reply's delivery queued by the
        # channels' subscriber) then reaches after-commit handlers after its cause, not before.
        if any(cls in self._after_commit for cls in type(event).__mro__):
            session.sync_session.info.setdefault(_PENDING, []).append(event)
        for cls in type(event).__mro__:
            for handler in self._in_transaction.get(cls, ()):
                await handler(session, event)

    def _committed(self, events: list[Event]) -> None:
        for event in events:
            for cls in type(event).__mro__:
                for handler in self._after_commit.get(cls, ()):
                    handler(event)


registry = Registry()


async def emit(session: AsyncSession, event: Event) -> None:
    """Emit a domain event in the session's transaction (see the module docstring)."""
    await registry.emit(session, event)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # A savepoint's release fires this too: the events wait for the transaction's commit.
    if session.in_nested_transaction():
        return
    events = session.info.pop(_PENDING, None)
    if events:
        registry._committed(events)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # A savepoint rolled back (one failed delivery of a batch) keeps the others' events; its
    # own may then be reported too, which after-commit reactions (wake-ups, the live stream,
    # reading rows afresh) take as a harmless extra.
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)
