"""Channel rows, always scoped by workspace; deleted channels are left out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import Channel, WebhookEvent, Workspace


def channels_of(workspace_id: str) -> Select[Channel]:
    """The workspace-scoped statement every channel query starts from."""
    return select(Channel).where(Channel.workspace_id == workspace_id, Channel.deleted_at.is_(None))


async def get(session: AsyncSession, workspace_id: str, channel_id: str) -> Channel | None:
    """One channel of the workspace."""
    stmt = channels_of(workspace_id).where(Channel.id == channel_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_with_region(
    session: AsyncSession, workspace_id: str, channel_id: str
) -> tuple[Channel, str] | None:
    """One channel and its workspace's default phone region, in one query."""
    params = {"workspace_id": workspace_id, "channel_id": channel_id}
    row = (await session.execute(_WITH_REGION, params)).first()
    return None if row is None else (row[0], row[1])


# Built once: the inbound hot path runs it for every message.
_WITH_REGION = (
    select(Channel, Workspace.default_phone_region)
    .join(Workspace, Workspace.id == Channel.workspace_id)
    .where(
        Channel.workspace_id == bindparam("workspace_id"),
        Channel.id == bindparam("channel_id"),
        Channel.deleted_at.is_(None),
    )
)


class Receiving(NamedTuple):
    """What receiving a message needs of a channel and its workspace (one Core row)."""

    id: str
    medium: str
    enabled: bool
    archived: bool
    region: str  # the workspace's default phone region
    config_version: int  # the workspace's configuration version (workspaces/config.py)


async def receiving(session: AsyncSession, workspace_id: str, channel_id: str) -> Receiving | None:
    """A live channel of the workspace as the inbound path reads it: no ORM entity."""
    params = {"workspace_id": workspace_id, "channel_id": channel_id}
    row = (await session.execute(_RECEIVING, params)).first()
    return None if row is None else Receiving(*row)


# Built once, Core columns only: the synchronous inbound path runs it for every message.
_channels = cast(Table, Channel.__table__)
_workspaces = cast(Table, Workspace.__table__)
_RECEIVING = (
    select(
        _channels.c.id,
        _channels.c.medium,
        _channels.c.enabled,
        _channels.c.archived,
        _workspaces.c.default_phone_region,
        _workspaces.c.config_version,
    )
    .join(_workspaces, _workspaces.c.id == _channels.c.workspace_id)
    .where(
        _channels.c.workspace_id == bindparam("workspace_id"),
        _channels.c.id == bindparam("channel_id"),
        _channels.c.deleted_at.is_(None),
    )
)


async def names(session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """The names of the workspace's channels by id, deleted ones too (their history stays)."""
    stmt = select(Channel.id, Channel.name).where(Channel.workspace_id == workspace_id)
    return dict((await session.execute(stmt)).all())


async def get_any(session: AsyncSession, channel_id: str) -> Channel | None:
    """A channel by id alone: its webhook URL is the one entry point that names no workspace."""
    stmt = select(Channel).where(Channel.id == channel_id, Channel.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def connected_with(session: AsyncSession, provider: str) -> list[Channel]:
    """Every live channel of every workspace connected with this provider (email addresses)."""
    stmt = select(Channel).where(
        Channel.provider == provider, Channel.deleted_at.is_(None), Channel.archived.is_(False)
    )
    return list((await session.execute(stmt)).scalars())


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store platform deliveries (the webhook's only write)."""
    await session.execute(insert(_events), list(rows))


async def claim_channel_with_pending(session: AsyncSession) -> Channel | None:
    """A channel with pending deliveries that no other worker is processing, locked until commit.

    The lock is the channel row's (NO KEY UPDATE: webhooks still insert events referring to
    it), so one worker at a time takes a channel's events, in arrival order. SQLite renders no
    clause; its single writer serialises workers anyway.
    """
    # The oldest by received_at, on the (status, received_at) index: ordered by id, a planner
    # whose statistics say "all pending" (a burst, then ANALYZE) walks the primary key through
    # every delivery processed since.
    pending = (
        select(WebhookEvent.channel_id)
        .where(WebhookEvent.status == "pending")
        .order_by(WebhookEvent.received_at)
        .limit(20)
    )
    channel_ids = list(dict.fromkeys((await session.execute(pending)).scalars()))
    if not channel_ids:
        return None
    stmt = (
        select(Channel)
        .where(Channel.id.in_(channel_ids))
        .with_for_update(key_share=True, skip_locked=True)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def pending_events(
    session: AsyncSession, channel_id: str, limit: int
) -> list[tuple[str, str, bytes, str]]:
    """The channel's oldest pending deliveries: (id, workspace id, body, content type)."""
    stmt = (
        select(
            WebhookEvent.id, WebhookEvent.workspace_id, WebhookEvent.body, WebhookEvent.content_type
        )
        .where(WebhookEvent.channel_id == channel_id, WebhookEvent.status == "pending")
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    return [(r[0], r[1], bytes(r[2]), r[3]) for r in await session.execute(stmt)]


async def finish_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Record how each processed delivery ended (status, error, outcome, processed_at)."""
    if rows:
        stmt = (
            update(_events)
            .where(_events.c.id == bindparam("event_id"))
            .values(
                status=bindparam("status"),
                error=bindparam("error"),
                outcome=bindparam("outcome"),
                processed_at=bindparam("processed_at"),
                attempts=_events.c.attempts + 1,
            )
        )
        await session.execute(stmt, list(rows))


def events_of(workspace_id: str, channel_id: str) -> Select[WebhookEvent]:
    """A channel's stored deliveries."""
    return select(WebhookEvent).where(
        WebhookEvent.workspace_id == workspace_id, WebhookEvent.channel_id == channel_id
    )


async def prune_events(session: AsyncSession, before: datetime) -> int:
    """Forget processed deliveries received before `before`; failed ones stay."""
    stmt = delete(WebhookEvent).where(
        WebhookEvent.status == "processed", WebhookEvent.received_at < before
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


_events = cast(Table, WebhookEvent.__table__)
