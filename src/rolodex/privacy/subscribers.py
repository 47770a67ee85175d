"""What privacy does when conversations change: start and stop auto-clear timers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.conversations.events import ConversationStatusChanged
from rolodex.kit.clock import utcnow
from rolodex.kit.events import Registry
from rolodex.privacy import autoclear


async def status_changed(session: AsyncSession, event: ConversationStatusChanged) -> None:
    """A resolve starts the contact's auto-clear timer; leaving `resolved` stops it."""
    await autoclear.status_changed(
        session,
        event.workspace_id,
        conversation_id=event.conversation_id,
        contact_id=event.contact_id,
        old=event.previous,
        new=event.current,
        at=utcnow(),
    )


def register(registry: Registry) -> None:
    """Subscribe in the transaction: the timer commits with the resolve."""
    registry.on(ConversationStatusChanged, status_changed)
