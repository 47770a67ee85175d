"""Workspace rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import Workspace


async def get(session: AsyncSession, workspace_id: str) -> Workspace | None:
    """The workspace with this id."""
    return await session.get(Workspace, workspace_id)


async def find_by_name(session: AsyncSession, name: str) -> Workspace | None:
    """The first workspace with this name (the demo uses it to stay idempotent)."""
    stmt = select(Workspace).where(Workspace.name == name).order_by(Workspace.id).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def plan(session: AsyncSession, workspace_id: str) -> str | None:
    """The workspace's plan (None: no such workspace)."""
    stmt = select(Workspace.plan).where(Workspace.id == workspace_id)
    return (await session.execute(stmt)).scalar_one_or_none()
