"""Recording and reading audit events; recorded in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.principals import Principal
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import AuditEvent, AuditEventContact


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
    # The contacts the event is about or names: erasing one of them finds the event by key.
    contact_ids: Sequence[str] = (),
) -> None:
    """Append an audit event (actor None = the system, e.g. the CLI or a job)."""
    ws = workspace_id or (actor.workspace_id if actor else None)
    assert ws is not None, "an audit event needs a workspace"
    event_id = new_id("aud")
    session.add(
        AuditEvent(
            id=event_id,
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
    if contact_ids:
        rows = [
            {"workspace_id": ws, "contact_id": c, "event_id": event_id}
            for c in dict.fromkeys(contact_ids)
        ]
        await session.execute(insert(AuditEventContact), rows)


async def list_events(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    """The workspace's audit events, newest first (admins)."""
    principal.require_admin()
    stmt = select(AuditEvent).where(AuditEvent.workspace_id == principal.workspace_id)
    return await id_page(
        session, stmt, AuditEvent.id, cursor=cursor, limit=limit, newest_first=True
    )
