"""What other domains tell the CRM integration, inside their own transactions.

Kept apart from crm.service (which applies answers through the attribute engine) so that
the attribute engine and conversations can call it without a circular import. Whether the
workspace is connected, with a write-back, and which attributes are lookup attributes is
kept in memory per configuration version (`CrmConfig`, workspaces/config.py): a workspace
with no CRM runs nothing here, and one with a CRM at most one primary-key probe and a job
written to the outbox: ingestion and status changes never wait for the CRM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from rolodex.attributes import service as attributes
from rolodex.crm import repository, writeback
from rolodex.jobs import service as jobs
from rolodex.plans import Feature, has_feature
from rolodex.workspaces import service as workspaces

_QUEUED = "crm_lookups_queued"


@dataclass(frozen=True)
class CrmConfig:
    """What the triggers need of a workspace's CRM integration, as of one version."""

    connected: bool  # an integration, and the plan has it
    write_back: bool
    lookup_ids: frozenset[str]  # the lookup attributes' definitions (none when not connected)


async def _load(session: AsyncSession, workspace_id: str) -> CrmConfig:
    exists, write_back = await repository.integration_facts(session, workspace_id)
    plan = await workspaces.plan_of(session, workspace_id)
    if not (exists and has_feature(plan, Feature.CRM_INTEGRATION)):
        return CrmConfig(False, False, frozenset())
    lookup_ids = (await attributes.configuration(session, workspace_id)).lookup_ids
    return CrmConfig(True, write_back, lookup_ids)


async def configuration(session: AsyncSession, workspace_id: str) -> CrmConfig:
    """The workspace's CRM configuration as this transaction sees it (kept per version)."""
    return await workspaces.cached_config(session, workspace_id, _load)


def _queued(session: AsyncSession) -> set[str]:
    queued: set[str] = session.sync_session.info.setdefault(_QUEUED, set())
    return queued


@sa_event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # Once per transaction: the next one (a session reused after a rollback) starts afresh.
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)


async def enqueue_lookup(
    session: AsyncSession, workspace_id: str, contact_id: str, reason: str
) -> None:
    """Queue one look-up of the contact (once per transaction, however many triggers fire)."""
    queued = _queued(session)
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
    config = await configuration(session, workspace_id)
    if config.lookup_ids.intersection(definition_ids):
        await enqueue_lookup(session, workspace_id, contact_id, "lookup_value_changed")


async def conversation_started(session: AsyncSession, workspace_id: str, contact_id: str) -> None:
    """A new conversation of a contact that already has lookup values asks the CRM again."""
    config = await configuration(session, workspace_id)
    # Nothing to ask without a CRM or a lookup attribute, or when this transaction already
    # queued the contact's look-up (its values just changed).
    if not config.lookup_ids or contact_id in _queued(session):
        return
    ids = sorted(config.lookup_ids)
    if await repository.has_lookup_values(session, contact_id, ids):
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
    if new not in writeback.EVENT_TYPES:
        return
    if not (await configuration(session, workspace_id)).write_back:
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
