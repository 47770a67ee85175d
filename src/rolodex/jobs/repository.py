"""SQL for the jobs table: claim with a lease, finish, retry, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.models import Job


def due(now: datetime) -> Select[Job]:
    """Jobs ready to run: queued and due, or running with an expired lease (a dead worker)."""
    return select(Job).where(
        or_(
            and_(Job.status == "queued", Job.run_at <= now),
            and_(Job.status == "running", Job.lease_until < now),
        )
    )


async def lock_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[Job]:
    """Lock up to `limit` due jobs; on PostgreSQL rows other workers hold are skipped."""
    stmt = due(now).order_by(Job.run_at).limit(limit).with_for_update(skip_locked=True)
    return (await session.execute(stmt)).scalars().all()


async def finish(
    session: AsyncSession, job_id: str, attempt: int, now: datetime, **values: object
) -> bool:
    """Update a job this worker still owns (same attempt, still running); False if it lost it."""
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
        .values(updated_at=now, lease_until=None, **values)
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def renew(session: AsyncSession, job_id: str, attempt: int, until: datetime) -> bool:
    """Extend the lease of a job this worker still owns (same attempt, running); False if lost."""
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
        .values(lease_until=until)
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def cancel_for_ref(session: AsyncSession, workspace_id: str, ref: str, now: datetime) -> int:
    """Cancel the queued jobs about one subject (e.g. a deleted contact)."""
    stmt = (
        update(Job)
        .where(Job.workspace_id == workspace_id, Job.ref == ref, Job.status == "queued")
        .values(status="cancelled", updated_at=now, finished_at=now)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0))
