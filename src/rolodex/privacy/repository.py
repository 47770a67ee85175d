"""Privacy rows, and the erasure of contacts across every table that holds their data.

Every statement is scoped by workspace. `erase` deletes children before parents, so it
does not depend on the database enforcing ON DELETE CASCADE.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.db import dialect_insert
from rolodex.models import (
    Attachment,
    AttributeHistory,
    AttributeValue,
    AuditEvent,
    AuditEventContact,
    BotUpload,
    Contact,
    ContactGroupMember,
    Conversation,
    ConversationEvent,
    CrmContactState,
    DeletedContact,
    Job,
    Message,
    PrivacySettings,
)

ERASED = "[deleted contact]"
# Contacts per statement of an erasure.
CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    # Bounded lists of bound parameters, however many contacts a person-level erasure takes.
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _conversations(workspace_id: str, contact_ids: list[str]) -> Any:
    return select(Conversation.id).where(
        Conversation.workspace_id == workspace_id, Conversation.contact_id.in_(contact_ids)
    )


async def attachment_hashes(
    session: AsyncSession, workspace_id: str, contact_ids: Sequence[str]
) -> set[str]:
    """The content hashes of the files attached to these contacts' messages, and of the files
    bots uploaded for their conversations."""
    found: set[str] = set()
    for chunk in _chunks(contact_ids):
        conversations = _conversations(workspace_id, chunk)
        messages = select(Message.id).where(
            Message.workspace_id == workspace_id, Message.conversation_id.in_(conversations)
        )
        stmt = select(Attachment.sha256).where(
            Attachment.workspace_id == workspace_id, Attachment.message_id.in_(messages)
        )
        found.update((await session.execute(stmt)).scalars())
        uploads = select(BotUpload.sha256).where(
            BotUpload.workspace_id == workspace_id, BotUpload.conversation_id.in_(conversations)
        )
        found.update((await session.execute(uploads)).scalars())
    return found


async def erase(session: AsyncSession, workspace_id: str, contact_ids: Sequence[str]) -> None:
    """Delete the contacts and every row about them, children first, in the caller's transaction."""
    for chunk in _chunks(contact_ids):
        await _erase_chunk(session, workspace_id, chunk)


async def _erase_chunk(session: AsyncSession, ws: str, ids: list[str]) -> None:
    conversations = _conversations(ws, ids)
    messages = select(Message.id).where(
        Message.workspace_id == ws, Message.conversation_id.in_(conversations)
    )
    await session.execute(
        delete(Attachment).where(Attachment.workspace_id == ws, Attachment.message_id.in_(messages))
    )
    await session.execute(
        delete(Message).where(
            Message.workspace_id == ws, Message.conversation_id.in_(conversations)
        )
    )
    await session.execute(
        delete(ConversationEvent).where(
            ConversationEvent.workspace_id == ws,
            ConversationEvent.conversation_id.in_(conversations),
        )
    )
    await session.execute(
        delete(Conversation).where(
            Conversation.workspace_id == ws, Conversation.contact_id.in_(ids)
        )
    )
    for model in (AttributeHistory, AttributeValue, ContactGroupMember, CrmContactState):
        await session.execute(
            delete(model).where(model.workspace_id == ws, model.contact_id.in_(ids))
        )
    # Jobs about them (lookups, write-backs, notifications, auto-clear timers), whatever their
    # status: a queued one is cancelled, a finished one forgets its payload. Found by key
    # (ix_jobs_workspace_contact): no scan of the jobs table inside this transaction.
    await session.execute(delete(Job).where(Job.workspace_id == ws, Job.contact_id.in_(ids)))
    await _scrub_audit(session, ws, ids)
    await session.execute(delete(Contact).where(Contact.workspace_id == ws, Contact.id.in_(ids)))


def _scrubbed(value: Any, subjects: set[str]) -> Any:
    if isinstance(value, str):
        return ERASED if value in subjects else value
    if isinstance(value, list):
        return [_scrubbed(v, subjects) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, subjects) for k, v in value.items()}
    return value


async def _scrub_audit(session: AsyncSession, workspace_id: str, contact_ids: list[str]) -> None:
    # Audit entries about the contacts go; others that name them (a re-check report listing
    # invalid values) keep their record with the ids replaced. Both are found by key, through
    # audit_event_contacts, filled when the entry was recorded.
    ws, wanted = workspace_id, set(contact_ids)
    refs = AuditEventContact
    named = select(refs.event_id).where(refs.workspace_id == ws, refs.contact_id.in_(contact_ids))
    stmt = select(AuditEvent.id, AuditEvent.target_id, AuditEvent.before, AuditEvent.after).where(
        AuditEvent.workspace_id == ws, AuditEvent.id.in_(named)
    )
    gone: list[str] = []
    for event_id, target_id, before, after in (await session.execute(stmt)).all():
        if target_id in wanted:
            gone.append(event_id)
            continue
        await session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == event_id)
            .values(before=_scrubbed(before, wanted), after=_scrubbed(after, wanted))
        )
    await session.execute(
        delete(refs).where(refs.workspace_id == ws, refs.contact_id.in_(contact_ids))
    )
    for chunk in _chunks(gone):
        await session.execute(delete(refs).where(refs.event_id.in_(chunk)))
        await session.execute(
            delete(AuditEvent).where(AuditEvent.workspace_id == ws, AuditEvent.id.in_(chunk))
        )


async def hashes_in_use(session: AsyncSession, hashes: Sequence[str]) -> set[str]:
    """Which of these file hashes some attachment or bot upload (of any workspace) still
    points to."""
    wanted = list(hashes)
    stmt = select(Attachment.sha256).where(Attachment.sha256.in_(wanted)).distinct()
    uploads = select(BotUpload.sha256).where(BotUpload.sha256.in_(wanted)).distinct()
    return set((await session.execute(stmt)).scalars()) | set(
        (await session.execute(uploads)).scalars()
    )


async def add_record(session: AsyncSession, record: DeletedContact) -> None:
    """Write one deleted-contacts record."""
    session.add(record)
    await session.flush()


def deleted_contacts(workspace_id: str, words: Sequence[str] = ()) -> Any:
    """The workspace's deleted-contacts records; with words, those whose hint contains each
    of them (in any order, any case): "ana lópez" finds "López, Ana"."""
    stmt = select(DeletedContact).where(DeletedContact.workspace_id == workspace_id)
    for word in words:
        stmt = stmt.where(DeletedContact.hint.icontains(word, autoescape=True))
    return stmt


async def get_settings(session: AsyncSession, workspace_id: str) -> PrivacySettings | None:
    """The workspace's privacy settings row, if any."""
    return await session.get(PrivacySettings, workspace_id)


async def set_auto_clear(
    session: AsyncSession, workspace_id: str, days: int | None, at: Any
) -> None:
    """Store the auto-clear period (upsert)."""
    stmt = dialect_insert(session, PrivacySettings).values(
        workspace_id=workspace_id, auto_clear_days=days, updated_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["workspace_id"],
            set_={"auto_clear_days": days, "updated_at": at},
        )
    )


async def conversation_status(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> str | None:
    """A conversation's status, None when it is gone."""
    stmt = select(Conversation.status).where(
        Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def has_open_conversation(session: AsyncSession, workspace_id: str, contact_id: str) -> bool:
    """Whether any of the contact's conversations is not resolved."""
    stmt = select(
        exists().where(
            Conversation.workspace_id == workspace_id,
            Conversation.contact_id == contact_id,
            Conversation.status != "resolved",
        )
    )
    return bool((await session.execute(stmt)).scalar())


async def clear_values(session: AsyncSession, workspace_id: str, contact_id: str) -> int:
    """Delete every attribute value of the contact and its history; how many values went."""
    values = await session.execute(
        delete(AttributeValue).where(
            AttributeValue.workspace_id == workspace_id, AttributeValue.contact_id == contact_id
        )
    )
    await session.execute(
        delete(AttributeHistory).where(
            AttributeHistory.workspace_id == workspace_id,
            AttributeHistory.contact_id == contact_id,
        )
    )
    for model in (ContactGroupMember, CrmContactState):
        await session.execute(
            delete(model).where(model.workspace_id == workspace_id, model.contact_id == contact_id)
        )
    return int(getattr(values, "rowcount", 0) or 0)
