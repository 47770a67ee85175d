"""REST route for admins to read the audit log."""

from __future__ import annotations

from fastapi import APIRouter

from rolodex.audit import service
from rolodex.audit.schemas import AuditEventRead
from rolodex.auth.deps import AdminPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", tags=["audit"], route_class=TransactionalRoute)


@router.get("/audit-events")
async def list_audit_events(
    session: SessionDep, principal: AdminPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> Page[AuditEventRead]:
    """The workspace's audit log, newest first (admins)."""
    rows, next_cursor = await service.list_events(session, principal, cursor=cursor, limit=limit)
    return Page(items=[AuditEventRead.model_validate(r) for r in rows], next_cursor=next_cursor)
