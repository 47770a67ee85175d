"""What the attributes domain does when other domains change things."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service
from rolodex.kit.events import Registry
from rolodex.workspaces.events import WorkspaceCreated


async def workspace_created(session: AsyncSession, event: WorkspaceCreated) -> None:
    """Every workspace starts with the standard attributes (`vip`, R4.1)."""
    await service.create_standard_attributes(session, event.workspace_id)


def register(registry: Registry) -> None:
    """Subscribe in the transaction: a workspace never exists without its standard attributes."""
    registry.on(WorkspaceCreated, workspace_created)
