"""Bot rows, always scoped by workspace."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import Bot


def bots_of(workspace_id: str) -> Select[Bot]:
    """The workspace-scoped statement every bot query starts from."""
    return select(Bot).where(Bot.workspace_id == workspace_id)


async def get(session: AsyncSession, workspace_id: str, bot_id: str) -> Bot | None:
    """One bot of the workspace."""
    return (
        await session.execute(bots_of(workspace_id).where(Bot.id == bot_id))
    ).scalar_one_or_none()


async def count(session: AsyncSession, workspace_id: str) -> int:
    """How many bots the workspace has."""
    stmt = select(func.count()).select_from(Bot).where(Bot.workspace_id == workspace_id)
    return int((await session.execute(stmt)).scalar_one())
