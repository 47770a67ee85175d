"""Channel rows, always scoped by workspace; deleted channels are left out."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import Channel, Workspace


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


async def names(session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """The names of the workspace's channels by id, deleted ones too (their history stays)."""
    stmt = select(Channel.id, Channel.name).where(Channel.workspace_id == workspace_id)
    return dict((await session.execute(stmt)).all())
