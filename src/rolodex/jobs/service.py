"""Enqueueing jobs in the caller's transaction, claiming them, and recording outcomes."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from rolodex.auth.principals import Principal
from rolodex.config import Settings
from rolodex.db import insert_for, prepared
from rolodex.errors import Conflict, NotFound
from rolodex.i18n import N_, _, translate
from rolodex.jobs import repository
from rolodex.jobs.registry import REGISTRY, JobSpec
from rolodex.kit import outbound
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Job

# Callbacks of in-process workers, run after any commit that enqueued a job so they start at once.
_listeners: set[Callable[[], None]] = set()
# Several server processes with one elected worker (`serve --workers N`, PostgreSQL): a commit
# that enqueued a job also NOTIFYs, so the worker in another process starts at once too.
JOBS_CHANNEL = "rolodex_jobs"
_notify_other_processes = False


def notify_other_processes(on: bool = True) -> None:
    """From now on, commits that enqueue jobs wake the workers of other processes too (or not)."""
    global _notify_other_processes
    _notify_other_processes = on


# A handler's own "not before" (a platform's rate-limit reset) is believed up to this far.
MAX_NOT_BEFORE = timedelta(hours=1)


def add_enqueue_listener(callback: Callable[[], None]) -> None:
    """Be told (synchronously, on the committing thread) after a commit that enqueued jobs."""
    _listeners.add(callback)


def remove_enqueue_listener(callback: Callable[[], None]) -> None:
    """Stop being told about enqueued jobs."""
    _listeners.discard(callback)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # NOTIFY is transactional: the other processes hear it when the jobs are visible.
    if not _notify_other_processes or session.in_nested_transaction():
        return
    if session.info.get("jobs_enqueued") and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_notify('{JOBS_CHANNEL}', '')"))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # A savepoint's release fires this too: wake the workers when the transaction commits.
    if session.in_nested_transaction():
        return
    if session.info.pop("jobs_enqueued", False):
        for callback in list(_listeners):
            callback()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction's other jobs still wake the workers
    session.info.pop("jobs_enqueued", None)


def wake_after_commit(session: AsyncSession) -> None:
    """Wake the workers once this transaction commits (work stored outside the jobs table)."""
    session.sync_session.info["jobs_enqueued"] = True


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    workspace_id: str | None = None,
    ref: str | None = None,
    # The contact the job is about: erasing the contact deletes the job by this key.
    contact_id: str | None = None,
    idempotency_key: str | None = None,
    run_at: datetime | None = None,
) -> str:
    """Write a job in the caller's transaction: it runs only if that transaction commits.

    With an idempotency key, enqueueing the same key twice keeps the first job.
    """
    spec = REGISTRY[kind]
    job_id = new_id("job")
    now = utcnow()
    values = {
        "id": job_id,
        "workspace_id": workspace_id,
        "kind": kind,
        "payload": payload,
        "ref": ref,
        "contact_id": contact_id,
        "idempotency_key": idempotency_key,
        "status": "queued",
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": spec.max_attempts,
        "created_at": now,
        "updated_at": now,
    }
    # One statement for both cases: jobs without a key (NULL) never conflict.
    await session.execute(_insert_job(session), values)
    session.sync_session.info["jobs_enqueued"] = True
    return job_id


@prepared
def _insert_job(dialect: str) -> Any:
    # Built once: an upsert's construction and cache key cost more than running it.
    return insert_for(dialect, Job).on_conflict_do_nothing(index_elements=["idempotency_key"])


@dataclass(frozen=True)
class Claimed:
    """A job this worker now holds, with the attempt number that fences its outcome."""

    id: str
    kind: str
    attempt: int
    workspace_id: str | None
    payload: dict[str, Any]
    spec: JobSpec


async def claim(
    session: AsyncSession, limit: int, settings: Settings | None = None
) -> list[Claimed]:
    """Take up to `limit` due jobs with a lease; jobs whose lease ran out too often end failed."""
    now = utcnow()
    claimed: list[Claimed] = []
    for row in await repository.lock_due(session, now, limit):
        spec = REGISTRY.get(row.kind)
        if spec is None:
            # Another process version may know this kind; leave it for a worker that does.
            continue
        if row.status == "running" and row.attempts >= row.max_attempts:
            row.status, row.finished_at, row.lease_until = "failed", now, None
            row.last_error = (row.last_error or "") + "\nlease expired: the worker stopped"
            row.updated_at = now
            continue
        row.status = "running"
        row.attempts += 1
        row.lease_until = now + (spec.schedule(settings)[1] if settings else spec.lease)
        row.updated_at = now
        claimed.append(
            Claimed(row.id, row.kind, row.attempts, row.workspace_id, dict(row.payload), spec)
        )
    await session.flush()
    return claimed


async def mark_done(session: AsyncSession, job: Claimed) -> bool:
    """Record success; False if the lease was lost to another worker meanwhile."""
    now = utcnow()
    return await repository.finish(
        session, job.id, job.attempt, now, status="done", finished_at=now, last_error=None
    )


async def mark_failed_attempt(
    session: AsyncSession,
    job: Claimed,
    error: str,
    settings: Settings | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Record a failure: retry after the next delay (and not before `not_before`, at most an
    hour on), or end `failed` after the last attempt."""
    now = utcnow()
    error = error[-4000:]
    delays = job.spec.schedule(settings)[0] if settings else job.spec.retry_delays
    if job.attempt <= len(delays):
        run_at = now + delays[job.attempt - 1]
        if not_before is not None:
            run_at = max(run_at, min(not_before, now + MAX_NOT_BEFORE))
        return await repository.finish(
            session, job.id, job.attempt, now, status="queued", run_at=run_at, last_error=error
        )
    return await repository.finish(
        session, job.id, job.attempt, now, status="failed", finished_at=now, last_error=error
    )


async def cancel_for_ref(session: AsyncSession, workspace_id: str, ref: str) -> int:
    """Cancel the queued jobs about one subject, in the caller's transaction."""
    return await repository.cancel_for_ref(session, workspace_id, ref, utcnow())


async def list_jobs(
    session: AsyncSession,
    *,
    workspace_id: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Job], str | None]:
    """Jobs, newest first, optionally of one workspace and one status."""
    stmt = select(Job)
    if workspace_id is not None:
        stmt = stmt.where(Job.workspace_id == workspace_id)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    return await id_page(session, stmt, Job.id, cursor=cursor, limit=limit, newest_first=True)


async def list_workspace_jobs(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Job], str | None]:
    """The workspace's jobs (admins), e.g. the failed ones."""
    principal.require_admin()
    return await list_jobs(
        session, workspace_id=principal.workspace_id, status=status, cursor=cursor, limit=limit
    )


# Why a delivery cannot be sent again, by its status (what the admin reads beside Retry).
_NOT_RETRYABLE = {
    "running": N_("This delivery is being sent right now."),
    "done": N_("This delivery has already been delivered."),
    "failed": N_("This delivery cannot be sent again."),
    "cancelled": N_("This delivery was cancelled; it cannot be sent again."),
}


async def send_now(session: AsyncSession, job: Job, *, again: Collection[str] = ("failed",)) -> Job:
    """Retry now: a job in one of the `again` states gets one more attempt, a waiting one
    runs at once; anything else is 409 `delivery_not_retryable` (outbox deliveries' Retry)."""
    if job.status in again:
        job.status, job.finished_at = "queued", None
        job.max_attempts = max(job.max_attempts, job.attempts + 1)
    elif job.status != "queued":
        raise Conflict(
            translate(_NOT_RETRYABLE.get(job.status, _NOT_RETRYABLE["failed"])),
            code="delivery_not_retryable",
        )
    job.run_at = job.updated_at = utcnow()
    await session.flush()
    session.sync_session.info["jobs_enqueued"] = True
    return job


async def retry_job(session: AsyncSession, principal: Principal, job_id: str) -> Job:
    """An admin sends a failed job round again (409 unless it is failed)."""
    principal.require_admin()
    stmt = select(Job).where(Job.workspace_id == principal.workspace_id, Job.id == job_id)
    job = (await session.execute(stmt)).scalar_one_or_none()
    if job is None:
        raise NotFound(_("Job not found."))
    if job.status != "failed":
        raise Conflict(_("Only failed jobs can be retried."), code="job_not_failed")
    return await send_now(session, job)


# --- public face ------------------------------------------------------------------------
# For the domains that send outbox deliveries (CRM, webhooks): why a target URL is refused,
# written for the admin who typed it, in their language.
_UNSAFE_TARGETS = {
    "must be an absolute https URL": N_("Enter a full address starting with https://."),
    "must use https": N_("Use an https:// address."),
    "must not point at a local host": N_("Use a public address, not a local host."),
    "must not point at a loopback, private or link-local address": N_(
        "Use a public address, not a loopback, private or link-local one."
    ),
}


def unsafe_target_message(exc: outbound.UnsafeTarget) -> str:
    """The reader's-language message for a refused outbound URL (kit.outbound's reason)."""
    return translate(_UNSAFE_TARGETS.get(str(exc), N_("This address cannot be used.")))
