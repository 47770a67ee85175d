"""Recording and reading audit events; recorded in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.principals import Principal
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import AuditEvent


async def record(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    *,
    workspace_id: str | None = None,
    target_type: str,
    target_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append an audit event (actor None = the system, e.g. the CLI or a job)."""
    ws = workspace_id or (actor.workspace_id if actor else None)
    assert ws is not None, "an audit event needs a workspace"
    session.add(
        AuditEvent(
            id=new_id("aud"),
            workspace_id=ws,
            actor_kind=actor.actor_kind if actor else "system",
            actor_id=actor.actor_id if actor else None,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    )
    await session.flush()


async def list_events(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    """The workspace's audit events, newest first (admins)."""
    principal.require_admin()
    stmt = select(AuditEvent).where(AuditEvent.workspace_id == principal.workspace_id)
    return await id_page(
        session, stmt, AuditEvent.id, cursor=cursor, limit=limit, newest_first=True
    )
