"""Webhook rows and their deliveries (jobs of one kind whose `ref` is the webhook's id), always
scoped by workspace; and the snapshots of contacts, conversations and messages that events carry.

The snapshots read the contacts, conversations and messages tables straight: they run inside
the emitting service's transaction (the emitter calls us through kit.events), their
services read on behalf of a principal that an event does not have, and importing them
here would make the emitting modules import themselves back.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.i18n import N_
from rolodex.models import AttributeDefinition, Contact, Conversation, Job, Message, Webhook

DELIVER_JOB = "webhooks.deliver"
# Why Rolodex disabled a webhook (`record_failure`): stored in English by the delivery job,
# which has no reader; the API and the page show it in the reader's language
# (service.shown_reason), with the receiver's last error as it was.
DISABLED_REASON = N_(
    "Deliveries to this URL have failed for 3 days without a success "
    "(the last error: %(error)s). Fix the receiver, then enable the webhook again."
)


def webhooks_of(workspace_id: str) -> Select[Webhook]:
    """Every webhook of a workspace."""
    return select(Webhook).where(Webhook.workspace_id == workspace_id)


async def get(
    session: AsyncSession, workspace_id: str, webhook_id: str, *, for_update: bool = False
) -> Webhook | None:
    """One webhook of the workspace."""
    stmt = webhooks_of(workspace_id).where(Webhook.id == webhook_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def count(session: AsyncSession, workspace_id: str) -> int:
    """How many webhooks the workspace has."""
    stmt = select(func.count()).select_from(Webhook).where(Webhook.workspace_id == workspace_id)
    return int((await session.execute(stmt)).scalar_one())


# Each workspace's enabled webhooks (id, events), kept a few seconds: every inbound message
# emits events, and most workspaces have no webhook, so asking the database each time would
# cost the hot path a statement for nothing. This process forgets a workspace's entry when
# its webhooks change (`forget_enabled`); another process sees the change within the TTL.
ENABLED_CACHE_SECONDS = 5.0
_ENABLED: dict[str, tuple[float, tuple[tuple[str, tuple[str, ...]], ...]]] = {}
_ENABLED_MAX = 10_000


def forget_enabled(workspace_id: str) -> None:
    """Drop the cached webhooks of a workspace (they were added, changed or removed)."""
    _ENABLED.pop(workspace_id, None)


async def subscribed(session: AsyncSession, workspace_id: str, event_type: str) -> list[str]:
    """Ids of the workspace's enabled webhooks that receive this event type.

    One look-up on (workspace_id, enabled) at most every few seconds; the event list of those
    few rows (a workspace has at most service.MAX_WEBHOOKS) is checked here, the same way on
    SQLite and PostgreSQL.
    """
    now = time.monotonic()
    cached = _ENABLED.get(workspace_id)
    if cached is None or cached[0] <= now:
        stmt = select(Webhook.id, Webhook.events).where(
            Webhook.workspace_id == workspace_id, Webhook.enabled == true()
        )
        rows = tuple(
            (row.id, tuple(row.events or ()))
            for row in await session.execute(stmt.order_by(Webhook.id))
        )
        if len(_ENABLED) >= _ENABLED_MAX:
            _ENABLED.clear()
        cached = _ENABLED[workspace_id] = (now + ENABLED_CACHE_SECONDS, rows)
    return [hook_id for hook_id, events in cached[1] if event_type in events]


async def definition_keys(
    session: AsyncSession, workspace_id: str, definition_ids: Sequence[str]
) -> dict[str, str]:
    """Attribute keys by definition id."""
    if not definition_ids:
        return {}
    stmt = select(AttributeDefinition.id, AttributeDefinition.key).where(
        AttributeDefinition.workspace_id == workspace_id,
        AttributeDefinition.id.in_(definition_ids),
    )
    return {row.id: row.key for row in await session.execute(stmt)}


async def record_success(session: AsyncSession, webhook_id: str) -> None:
    """A delivery succeeded: the webhook is not failing any more."""
    stmt = (
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.failing_since.is_not(None))
        .values(failing_since=None)
    )
    await session.execute(stmt)


async def record_failure(
    session: AsyncSession, webhook_id: str, now: datetime, cutoff: datetime, reason: str
) -> bool:
    """A delivery failed: start the failing run if none is open, and disable the webhook if
    its run began before `cutoff`. True if the webhook is disabled now (by this call or not)."""
    start = (
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.failing_since.is_(None))
        .values(failing_since=now)
    )
    await session.execute(start)
    disable = (
        update(Webhook)
        .where(
            Webhook.id == webhook_id,
            Webhook.enabled == true(),
            Webhook.failing_since <= cutoff,
        )
        .values(enabled=False, disabled_reason=reason, updated_at=now)
    )
    await session.execute(disable)
    enabled = select(Webhook.enabled).where(Webhook.id == webhook_id)
    return (await session.execute(enabled)).scalar_one_or_none() is not True


async def cancel_own_attempt(
    session: AsyncSession, job_id: str, attempt: int, now: datetime, error: str
) -> None:
    """End a delivery being run as cancelled (its webhook is disabled): the worker's own
    outcome for this attempt then finds the job no longer running and leaves it so."""
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
        .values(
            status="cancelled", finished_at=now, updated_at=now, lease_until=None, last_error=error
        )
    )
    await session.execute(stmt)


def deliveries_of(workspace_id: str, webhook_id: str) -> Select[Job]:
    """A webhook's deliveries (index on jobs.workspace_id, ref)."""
    return select(Job).where(
        Job.workspace_id == workspace_id, Job.ref == webhook_id, Job.kind == DELIVER_JOB
    )


async def get_delivery(
    session: AsyncSession, workspace_id: str, webhook_id: str, delivery_id: str
) -> Job | None:
    """One delivery of a webhook."""
    stmt = deliveries_of(workspace_id, webhook_id).where(Job.id == delivery_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- what events carry -------------------------------------------------------------------


async def contact(session: AsyncSession, workspace_id: str, contact_id: str) -> Contact | None:
    """The contact as it is now in this transaction."""
    stmt = select(Contact).where(Contact.workspace_id == workspace_id, Contact.id == contact_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def conversation(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> Conversation | None:
    """The conversation as it is now in this transaction."""
    stmt = select(Conversation).where(
        Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def message(session: AsyncSession, workspace_id: str, message_id: str) -> Message | None:
    """The message as it is now in this transaction."""
    stmt = select(Message).where(Message.workspace_id == workspace_id, Message.id == message_id)
    return (await session.execute(stmt)).scalar_one_or_none()
