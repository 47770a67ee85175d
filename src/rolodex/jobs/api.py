"""REST routes for admins to see and retry background jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rolodex.auth.deps import AdminPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.jobs import service
from rolodex.jobs.schemas import JobRead, JobStatus
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", tags=["jobs"], route_class=TransactionalRoute)


@router.get("/jobs")
async def list_jobs(
    session: SessionDep,
    principal: AdminPrincipal,
    status: Annotated[JobStatus | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[JobRead]:
    """The workspace's background jobs, newest first; `status=failed` lists the failed ones."""
    rows, next_cursor = await service.list_workspace_jobs(
        session, principal, status=status, cursor=cursor, limit=limit
    )
    return Page(items=[JobRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("/jobs/{job_id}/retry")
async def retry_job(job_id: str, session: SessionDep, principal: AdminPrincipal) -> JobRead:
    """Queue a failed job for one more attempt (admins)."""
    return JobRead.model_validate(await service.retry_job(session, principal, job_id))
