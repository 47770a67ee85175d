"""Domain events -> webhook deliveries, in the emitter's transaction (nothing is sent for a
change that rolled back, nothing is lost for one that committed).

Each handler asks for the workspace's enabled webhooks of its event type (one indexed
query, nothing cached across transactions) and, only if there are some, builds the event's
data now and queues one delivery per webhook.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.events import AttributeValuesChanged
from rolodex.contacts.events import ContactCreated, ContactDeleted
from rolodex.conversations import service as conversations
from rolodex.conversations.events import (
    ConversationAssigned,
    ConversationStarted,
    ConversationStatusChanged,
    MessageReceived,
    MessageSent,
)
from rolodex.kit.events import Registry
from rolodex.models import Conversation
from rolodex.webhooks import repository, service
from rolodex.webhooks.events import WebhooksChanged
from rolodex.webhooks.schemas import EventType
from rolodex.webhooks.signing import iso


async def _targets(session: AsyncSession, workspace_id: str, event_type: EventType) -> list[str]:
    hooks = await repository.subscribed(session, workspace_id, event_type.value)
    if hooks:
        # The emitter may hold changes not yet flushed; the snapshots below must see them.
        await session.flush()
    return hooks


def _actor(kind: str, actor_id: str | None) -> dict[str, Any]:
    return {"kind": kind, "id": actor_id}


def _conversation_data(row: Conversation) -> dict[str, Any]:
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "channel_id": row.channel_id,
        "status": row.status,
        "assignee_id": row.assignee_id,
        "team_id": row.team_id,
        "created_at": iso(row.created_at),
        "last_message_at": iso(row.last_message_at),
    }


async def contact_created(session: AsyncSession, event: ContactCreated) -> None:
    """contact.created: the new contact."""
    ws = event.workspace_id
    hooks = await _targets(session, ws, EventType.CONTACT_CREATED)
    if not hooks:
        return
    data: dict[str, Any] = {
        "id": event.contact_id,
        "medium": event.medium,
        "channel_id": event.channel_id,
    }
    row = await repository.contact(session, ws, event.contact_id)
    if row is not None:
        data |= {"display_name": row.display_name, "created_at": iso(row.created_at)}
    await service.enqueue(
        session, ws, hooks, EventType.CONTACT_CREATED, data, contact_id=event.contact_id
    )


async def attribute_values_changed(session: AsyncSession, event: AttributeValuesChanged) -> None:
    """contact.updated: one event per write, with every changed attribute."""
    ws = event.workspace_id
    if not event.changes:
        return
    hooks = await _targets(session, ws, EventType.CONTACT_UPDATED)
    if not hooks:
        return
    missing = [change.definition_id for change in event.changes if not change.key]
    keys = await repository.definition_keys(session, ws, missing)
    data = {
        "id": event.contact_id,
        "changes": [
            {
                "attribute": change.key or keys.get(change.definition_id, ""),
                "old_value": change.old,
                "new_value": change.new,
                "source": event.source,
            }
            for change in event.changes
        ],
        "actor": _actor(event.actor_kind, event.actor_id),
    }
    await service.enqueue(
        session, ws, hooks, EventType.CONTACT_UPDATED, data, contact_id=event.contact_id
    )


async def contact_deleted(session: AsyncSession, event: ContactDeleted) -> None:
    """contact.deleted: the id, the admin's hint and the medium; nothing else of the person.

    No contact_id reference on the job: erasing the contact must not delete this delivery.
    """
    ws = event.workspace_id
    hooks = await _targets(session, ws, EventType.CONTACT_DELETED)
    if not hooks:
        return
    data = {"id": event.contact_id, "hint": event.hint, "medium": event.medium}
    await service.enqueue(session, ws, hooks, EventType.CONTACT_DELETED, data, contact_id=None)


async def conversation_started(session: AsyncSession, event: ConversationStarted) -> None:
    """conversation.created: the new conversation."""
    ws = event.workspace_id
    hooks = await _targets(session, ws, EventType.CONVERSATION_CREATED)
    if not hooks:
        return
    row = await repository.conversation(session, ws, event.conversation_id)
    data: dict[str, Any] = (
        _conversation_data(row)
        if row is not None
        else {
            "id": event.conversation_id,
            "contact_id": event.contact_id,
            "channel_id": event.channel_id,
        }
    )
    await service.enqueue(
        session, ws, hooks, EventType.CONVERSATION_CREATED, data, contact_id=event.contact_id
    )


async def conversation_status_changed(
    session: AsyncSession, event: ConversationStatusChanged
) -> None:
    """conversation.updated: a status change, with its reason, comment and actor."""
    ws = event.workspace_id
    hooks = await _targets(session, ws, EventType.CONVERSATION_UPDATED)
    if not hooks:
        return
    row = await repository.conversation(session, ws, event.conversation_id)
    data: dict[str, Any] = (
        _conversation_data(row)
        if row is not None
        else {"id": event.conversation_id, "contact_id": event.contact_id}
    )
    data["status"] = event.current
    data |= {
        "changes": {"status": {"old": event.previous, "new": event.current}},
        "reason": event.reason,
        "comment": event.comment,
        "actor": _actor(event.actor_kind, event.actor_id),
    }
    await service.enqueue(
        session, ws, hooks, EventType.CONVERSATION_UPDATED, data, contact_id=event.contact_id
    )


async def conversation_assigned(session: AsyncSession, event: ConversationAssigned) -> None:
    """conversation.updated: a new assignee or team."""
    ws = event.workspace_id
    hooks = await _targets(session, ws, EventType.CONVERSATION_UPDATED)
    if not hooks:
        return
    row = await repository.conversation(session, ws, event.conversation_id)
    data: dict[str, Any] = _conversation_data(row) if row is not None else {}
    data |= {
        "id": event.conversation_id,
        "assignee_id": event.assignee_id,
        "team_id": event.team_id,
        "changes": {
            "assignee_id": {"old": event.previous_assignee_id, "new": event.assignee_id},
            "team_id": {"old": event.previous_team_id, "new": event.team_id},
        },
    }
    contact_id = row.contact_id if row is not None else None
    await service.enqueue(
        session, ws, hooks, EventType.CONVERSATION_UPDATED, data, contact_id=contact_id
    )


async def _message_created(
    session: AsyncSession, event: MessageReceived | MessageSent, author: dict[str, Any]
) -> None:
    ws = event.workspace_id
    hooks = await _targets(session, ws, EventType.MESSAGE_CREATED)
    if not hooks:
        return
    data: dict[str, Any] = {
        "id": event.message_id,
        "conversation_id": event.conversation_id,
        "contact_id": event.contact_id,
        "channel_id": event.channel_id,
        "author": author,
    }
    row = await repository.message(session, ws, event.message_id)
    if row is not None:
        data |= {
            "direction": row.direction,
            "text": row.text,
            "external_id": row.external_id,
            "sent_at": iso(row.sent_at),
            "created_at": iso(row.created_at),
        }
    await service.enqueue(
        session, ws, hooks, EventType.MESSAGE_CREATED, data, contact_id=event.contact_id
    )


async def message_received(session: AsyncSession, event: MessageReceived) -> None:
    """message.created: the contact's message."""
    await _message_created(session, event, _actor("contact", event.contact_id))


async def message_sent(session: AsyncSession, event: MessageSent) -> None:
    """message.created: an agent's, a bot's or the system's message."""
    # The API's author kinds (R11.5): a user writes as `agent`, a CRM or no one as `system`.
    kind = conversations.author_kind(event.author_kind).value
    await _message_created(session, event, _actor(kind, event.author_id))


def _forget_enabled(event: WebhooksChanged) -> None:
    repository.forget_enabled(event.workspace_id)


def register(registry: Registry) -> None:
    """Subscribe, in the transaction, to every event that a webhook can receive."""
    # After commit: forgetting before it, a concurrent event could cache the old rows again.
    registry.after_commit(WebhooksChanged, _forget_enabled)
    registry.on(ContactCreated, contact_created)
    registry.on(AttributeValuesChanged, attribute_values_changed)
    registry.on(ContactDeleted, contact_deleted)
    registry.on(ConversationStarted, conversation_started)
    registry.on(ConversationStatusChanged, conversation_status_changed)
    registry.on(ConversationAssigned, conversation_assigned)
    registry.on(MessageReceived, message_received)
    registry.on(MessageSent, message_sent)
