"""What other domains tell the CRM integration, inside their own transactions.

Kept apart from crm.service (which applies answers through the attribute engine) so that
the attribute engine and conversations can call it without a circular import. Each
trigger is one cheap query when the workspace has no CRM, and at most a job written to the
outbox when it has: ingestion and status changes never wait for the CRM.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.crm import repository, writeback
from rolodex.jobs import service as jobs

_QUEUED = "crm_lookups_queued"


async def enqueue_lookup(
    session: AsyncSession, workspace_id: str, contact_id: str, reason: str
) -> None:
    """Queue one look-up of the contact (once per transaction, however many triggers fire)."""
    queued: set[str] = session.sync_session.info.setdefault(_QUEUED, set())
    if contact_id in queued:
        return
    queued.add(contact_id)
    await jobs.enqueue(
        session,
        repository.LOOKUP_JOB,
        {"contact_id": contact_id, "reason": reason},
        workspace_id=workspace_id,
        ref=contact_id,
        contact_id=contact_id,
    )


async def values_changed(
    session: AsyncSession, workspace_id: str, contact_id: str, definition_ids: Sequence[str]
) -> None:
    """A contact's values changed (ingestion, an agent, a bot): a lookup attribute's new value
    asks the CRM for the contact."""
    if definition_ids and await repository.triggers_lookup(session, workspace_id, definition_ids):
        await enqueue_lookup(session, workspace_id, contact_id, "lookup_value_changed")


async def conversation_started(session: AsyncSession, workspace_id: str, contact_id: str) -> None:
    """A new conversation of a contact that already has lookup values asks the CRM again."""
    if await repository.has_lookup_values(session, workspace_id, contact_id):
        await enqueue_lookup(session, workspace_id, contact_id, "conversation_started")


async def status_changed(
    session: AsyncSession,
    workspace_id: str,
    conversation_id: str,
    *,
    old: str,
    new: str,
    actor_user_id: str | None,
    reason: str | None = None,
    comment: str | None = None,
) -> None:
    """Resolved or set to pending: the write-back goes to the outbox with the status change."""
    if new not in writeback.EVENT_TYPES or not await repository.has_write_back(
        session, workspace_id
    ):
        return
    built = await writeback.build(
        session,
        workspace_id,
        conversation_id,
        old=old,
        new=new,
        actor_user_id=actor_user_id,
        reason=reason,
        comment=comment,
    )
    if built is None:
        return
    body, contact_id = built
    await jobs.enqueue(
        session,
        repository.WRITE_BACK_JOB,
        {
            "conversation_id": conversation_id,
            "contact_id": contact_id,
            "type": body["type"],
            "body": body,
        },
        workspace_id=workspace_id,
        ref=conversation_id,
        contact_id=contact_id,
        idempotency_key=f"crm-write-back:{body['idempotencyKey']}",
    )
