"""What happens to messages after they are written: delivery statuses, echoes, reactions,
and files fetched later from a platform (R11.4). The channels domain drives these; the
conversations domain owns the rows.

Statuses only move forward (queued → sent → delivered → read); `failed` replaces queued or
sent, never delivered or read (a platform that reports delivery has delivered). Each change
is one conditional UPDATE, so statuses arriving out of order or twice change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.conversations.events import MessageChanged, MessageDeliveryChanged
from rolodex.db import dialect_insert
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.models import Attachment, Conversation, Message, MessageReaction

RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
# The statuses a new one may replace.
_BEFORE = {
    "queued": ("failed",),  # a retry
    "sent": ("queued",),
    "delivered": ("queued", "sent"),
    "read": ("queued", "sent", "delivered"),
    "failed": ("queued", "sent"),
}


@dataclass(frozen=True)
class Outgoing:
    """A reply to deliver: the message, where it goes and what it carries."""

    message_id: str
    conversation_id: str
    channel_id: str
    contact_id: str
    text: str
    delivery_status: str | None
    provider_message_id: str | None
    attachments: list[Attachment]


async def outgoing(session: AsyncSession, workspace_id: str, message_id: str) -> Outgoing | None:
    """An outbound message with its conversation's contact and its files (None if gone)."""
    stmt = (
        select(Message, Conversation.contact_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.workspace_id == workspace_id, Message.id == message_id)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    message, contact_id = row
    files = select(Attachment).where(
        Attachment.workspace_id == workspace_id, Attachment.message_id == message_id
    )
    return Outgoing(
        message.id,
        message.conversation_id,
        message.channel_id,
        contact_id,
        message.text,
        message.delivery_status,
        message.provider_message_id,
        list((await session.execute(files.order_by(Attachment.id))).scalars()),
    )


async def set_delivery(
    session: AsyncSession,
    workspace_id: str,
    message_id: str,
    status: str,
    *,
    provider_message_id: str | None = None,
    error: tuple[str, str] | None = None,
    at: datetime | None = None,
) -> bool:
    """Move a message's delivery to `status` if it may (see the module doc); whether it moved."""
    values: dict[str, Any] = {
        "delivery_status": status,
        "delivery_updated_at": at or utcnow(),
        "delivery_error_code": error[0] if error else None,
        "delivery_error_title": error[1][:500] if error else None,
    }
    if provider_message_id is not None:
        # The platform's id is also the message's external id: its echo is then a duplicate.
        values["provider_message_id"] = values["external_id"] = provider_message_id
    where = [Message.workspace_id == workspace_id, Message.id == message_id]
    if status != "queued":
        where.append(Message.delivery_status.in_(_BEFORE[status]))
    else:
        where.append(or_(Message.delivery_status.is_(None), Message.delivery_status == "failed"))
    return await _moved(session, workspace_id, where, values)


async def apply_status(
    session: AsyncSession,
    workspace_id: str,
    channel_id: str,
    provider_message_id: str,
    status: str,
    at: datetime,
    error: tuple[str, str] | None = None,
) -> bool | None:
    """A platform's status for the message it knows by this id; None if no such message."""
    found = select(Message.id).where(
        Message.channel_id == channel_id, Message.provider_message_id == provider_message_id
    )
    message_id = (await session.execute(found)).scalar_one_or_none()
    if message_id is None:
        return None
    return await set_delivery(session, workspace_id, message_id, status, error=error, at=at)


async def apply_watermark(
    session: AsyncSession,
    workspace_id: str,
    channel_id: str,
    contact_id: str,
    status: str,
    watermark: datetime,
) -> int:
    """Every reply to the contact on the channel sent up to `watermark` is delivered or read."""
    conversations = select(Conversation.id).where(
        Conversation.workspace_id == workspace_id,
        Conversation.channel_id == channel_id,
        Conversation.contact_id == contact_id,
    )
    stmt = (
        select(Message.id)
        .where(
            Message.workspace_id == workspace_id,
            Message.conversation_id.in_(conversations),
            Message.direction == "outbound",
            Message.sent_at <= watermark,
            Message.delivery_status.in_(_BEFORE[status]),
        )
        .order_by(Message.id)
    )
    moved = 0
    for message_id in (await session.execute(stmt)).scalars():
        moved += await set_delivery(session, workspace_id, message_id, status, at=watermark)
    return moved


async def _moved(
    session: AsyncSession, workspace_id: str, where: list[Any], values: dict[str, Any]
) -> bool:
    stmt = (
        update(Message)
        .where(and_(*where))
        .values(**values)
        .returning(Message.id, Message.conversation_id, Message.delivery_status)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return False
    await emit(
        session,
        MessageDeliveryChanged(
            workspace_id=workspace_id,
            message_id=row[0],
            conversation_id=row[1],
            status=str(row[2]),
        ),
    )
    return True


async def message_by_platform_id(
    session: AsyncSession, workspace_id: str, channel_id: str, platform_id: str
) -> str | None:
    """The message a platform id names: a received one, or one Rolodex sent."""
    stmt = select(Message.id).where(
        Message.workspace_id == workspace_id,
        Message.channel_id == channel_id,
        or_(Message.external_id == platform_id, Message.provider_message_id == platform_id),
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def react(
    session: AsyncSession,
    workspace_id: str,
    message_id: str,
    author: tuple[str, str],
    emoji: str,
    at: datetime,
) -> None:
    """Set (or with "" remove) an author's reaction to a message."""
    kind, author_id = author
    mine = and_(
        MessageReaction.message_id == message_id,
        MessageReaction.author_kind == kind,
        MessageReaction.author_id == author_id,
    )
    if not emoji:
        removed = await session.execute(delete(MessageReaction).where(mine))
        if getattr(removed, "rowcount", 0):
            await _message_changed(session, workspace_id, message_id, "reaction")
        return
    row = {
        "id": new_id("rx"),
        "workspace_id": workspace_id,
        "message_id": message_id,
        "author_kind": kind,
        "author_id": author_id,
        "emoji": emoji[:40],
        "created_at": at,
    }
    stmt = dialect_insert(session, MessageReaction).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["message_id", "author_kind", "author_id"],
        set_={"emoji": stmt.excluded.emoji, "created_at": stmt.excluded.created_at},
    )
    await session.execute(stmt)
    await _message_changed(session, workspace_id, message_id, "reaction")


async def _message_changed(
    session: AsyncSession, workspace_id: str, message_id: str | None, what: str
) -> None:
    # The live stream shows the message again (its reactions, its files): the event names
    # the conversation too, one index look-up off the hot path of new messages.
    if message_id is None:
        return
    found = select(Message.conversation_id).where(
        Message.workspace_id == workspace_id, Message.id == message_id
    )
    conversation_id = (await session.execute(found)).scalar_one_or_none()
    if conversation_id is not None:
        await emit(
            session,
            MessageChanged(
                workspace_id=workspace_id,
                message_id=message_id,
                conversation_id=conversation_id,
                what=what,
            ),
        )


async def reactions_of(
    session: AsyncSession, workspace_id: str, message_ids: list[str]
) -> dict[str, list[MessageReaction]]:
    """The reactions to these messages, by message id."""
    out: dict[str, list[MessageReaction]] = {m: [] for m in message_ids}
    if message_ids:
        stmt = select(MessageReaction).where(
            MessageReaction.workspace_id == workspace_id,
            MessageReaction.message_id.in_(message_ids),
        )
        for reaction in (await session.execute(stmt.order_by(MessageReaction.id))).scalars():
            out[reaction.message_id].append(reaction)
    return out


async def attachment(
    session: AsyncSession, workspace_id: str | None, attachment_id: str
) -> Attachment | None:
    """One attachment of the workspace (None: of any, for a link signed for this id alone)."""
    stmt = select(Attachment).where(Attachment.id == attachment_id)
    if workspace_id is not None:
        stmt = stmt.where(Attachment.workspace_id == workspace_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def attachment_fetched(
    session: AsyncSession,
    workspace_id: str,
    attachment_id: str,
    *,
    content_type: str,
    size: int,
    sha256: str,
) -> None:
    """A platform's file is stored: the attachment points at its bytes."""
    stored = await session.execute(
        update(Attachment)
        .where(Attachment.workspace_id == workspace_id, Attachment.id == attachment_id)
        .values(status="stored", content_type=content_type, size=size, sha256=sha256, error=None)
        .returning(Attachment.message_id)
    )
    await _message_changed(session, workspace_id, stored.scalar_one_or_none(), "attachment")


async def attachment_failed(
    session: AsyncSession, workspace_id: str, attachment_id: str, error: str
) -> None:
    """A platform's file could not be fetched: the message stays, the file shows Retry."""
    failed = await session.execute(
        update(Attachment)
        .where(Attachment.workspace_id == workspace_id, Attachment.id == attachment_id)
        .values(status="failed", error=error[:500])
        .returning(Attachment.message_id)
    )
    await _message_changed(session, workspace_id, failed.scalar_one_or_none(), "attachment")
