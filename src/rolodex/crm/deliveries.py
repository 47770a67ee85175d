"""Write-back deliveries: the `crm.write_back` jobs of a workspace, listed and retried now."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.principals import Principal
from rolodex.crm import repository
from rolodex.crm.schemas import DeliveryRead
from rolodex.errors import NotFound
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.jobs.schemas import DeliveryStatus
from rolodex.kit.pagination import id_page
from rolodex.models import Job
from rolodex.plans import Feature


def _require(principal: Principal) -> None:
    principal.require_feature(Feature.CRM_INTEGRATION)
    principal.require_admin()


def _delivery(job: Job) -> DeliveryRead:
    body = job.payload.get("body") or {}
    waiting = job.status == "queued"
    return DeliveryRead(
        id=job.id,
        type=str(job.payload.get("type", "")),
        conversation_id=str(job.payload.get("conversation_id", "")),
        idempotency_key=str(body.get("idempotencyKey", "")),
        status=DeliveryStatus(job.status),
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        last_error=job.last_error,
        created_at=job.created_at,
        next_attempt_at=job.run_at if waiting else None,
        finished_at=job.finished_at,
    )


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DeliveryRead], str | None]:
    """Write-back deliveries, newest first, optionally of one status (admins)."""
    _require(principal)
    stmt = repository.deliveries_of(principal.workspace_id)
    if status is not None:
        stmt = stmt.where(Job.status == status.value)
    rows, next_cursor = await id_page(
        session, stmt, Job.id, cursor=cursor, limit=limit, newest_first=True
    )
    return [_delivery(r) for r in rows], next_cursor


async def retry_delivery(
    session: AsyncSession, principal: Principal, delivery_id: str
) -> DeliveryRead:
    """Retry now: a failed delivery gets one more attempt; a waiting one goes at once."""
    _require(principal)
    job = await repository.get_delivery(session, principal.workspace_id, delivery_id)
    if job is None:
        raise NotFound(_("Delivery not found."))
    return _delivery(await jobs.send_now(session, job))
