"""What the CRM integration does when other domains change things: look-ups and write-backs,
written to the outbox in the transaction of the change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.events import AttributeValuesChanged
from rolodex.conversations.events import ConversationStarted, ConversationStatusChanged
from rolodex.crm import triggers
from rolodex.kit.events import Registry


async def values_changed(session: AsyncSession, event: AttributeValuesChanged) -> None:
    """A lookup attribute's new value asks the CRM for the contact (its own writes ask nothing)."""
    if event.source != "crm":
        await triggers.values_changed(
            session, event.workspace_id, event.contact_id, event.definition_ids
        )


async def conversation_started(session: AsyncSession, event: ConversationStarted) -> None:
    """A new conversation of a contact with lookup values asks the CRM again."""
    await triggers.conversation_started(session, event.workspace_id, event.contact_id)


async def status_changed(session: AsyncSession, event: ConversationStatusChanged) -> None:
    """Resolved or set to pending: the write-back goes to the outbox."""
    await triggers.status_changed(
        session,
        event.workspace_id,
        event.conversation_id,
        old=event.previous,
        new=event.current,
        actor_user_id=event.actor_id if event.actor_kind == "user" else None,
        reason=event.reason,
        comment=event.comment,
    )


def register(registry: Registry) -> None:
    """Subscribe in the transaction: nothing is sent for a change that rolled back."""
    registry.on(AttributeValuesChanged, values_changed)
    registry.on(ConversationStarted, conversation_started)
    registry.on(ConversationStatusChanged, status_changed)
