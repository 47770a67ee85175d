"""CRM jobs: look-ups, write-backs and notifications. Each reads what it needs in a short
transaction, talks to the CRM outside any transaction, then records the outcome in
another: a slow CRM holds no database lock and never blocks the inbox (R6.2)."""

from __future__ import annotations

import json
from datetime import timedelta

from pydantic import ValidationError

from rolodex.attributes.service import Provenance
from rolodex.config import Settings
from rolodex.crm import client, repository, service
from rolodex.crm.client import CrmUnavailable, Target
from rolodex.crm.schemas import CrmAnswer, LookupOutcome
from rolodex.jobs.registry import DEFAULT_RETRY_DELAYS, JobContext, job
from rolodex.kit.clock import utcnow

WRITE_BACK_UNITS = (1, 2, 4, 8, 16)  # 6 requests in all (SPEC "Compatibility")
LOOKUP_RETRIES = (30, 120, 600)  # seconds; only for timeouts, network errors and 5xx


def _lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.crm_job_lease_seconds)


def _write_back_tuning(settings: Settings) -> tuple[tuple[timedelta, ...], timedelta]:
    unit = settings.write_back_retry_unit_seconds
    return tuple(timedelta(seconds=n * unit) for n in WRITE_BACK_UNITS), _lease(settings)


def _lookup_tuning(settings: Settings) -> tuple[tuple[timedelta, ...], timedelta]:
    return tuple(timedelta(seconds=s) for s in LOOKUP_RETRIES), _lease(settings)


class CrmRefused(RuntimeError):
    """The CRM answered with an error status."""


@job(
    repository.LOOKUP_JOB,
    retry_delays=tuple(timedelta(seconds=s) for s in LOOKUP_RETRIES),
    tuning=_lookup_tuning,
)
async def lookup(ctx: JobContext) -> None:
    """Post the contact's lookup values to the CRM and apply its answer."""
    assert ctx.workspace_id is not None
    ws, contact_id = ctx.workspace_id, str(ctx.payload["contact_id"])
    async with ctx.db.reader() as session:
        row = await repository.get_integration(session, ws)
        if row is None or not await repository.contact_exists(session, ws, contact_id):
            return
        target, url = Target.of(row), row.lookup_url
        values = await repository.lookup_values(session, ws, contact_id)
    if not values:
        async with ctx.db.transaction() as session:
            await service.record_outcome(session, ws, contact_id, LookupOutcome.NO_LOOKUP_VALUES)
        return
    body = client.encode(values)
    headers = {"X-Rolodex-Contact-Profile-Id": contact_id}
    try:
        reply = await client.post(target, url, body, ctx.settings, headers=headers)
    except CrmUnavailable as exc:
        await _failed(ctx, contact_id, str(exc))
        raise
    if reply.status >= 500:
        await _failed(ctx, contact_id, f"the CRM answered {reply.status}: {reply.excerpt()}")
        raise CrmRefused(f"lookup answered {reply.status}")
    if not reply.ok:
        outcome = LookupOutcome.NOT_FOUND if reply.status == 404 else LookupOutcome.FAILED
        await _failed(
            ctx, contact_id, f"the CRM answered {reply.status}: {reply.excerpt()}", outcome
        )
        return
    await _answered(ctx, contact_id, reply.body, reply.truncated)


async def _failed(
    ctx: JobContext, contact_id: str, error: str, outcome: LookupOutcome = LookupOutcome.FAILED
) -> None:
    assert ctx.workspace_id is not None
    async with ctx.db.transaction() as session:
        await service.record_outcome(session, ctx.workspace_id, contact_id, outcome, error[:1000])


async def _answered(ctx: JobContext, contact_id: str, raw: bytes, truncated: bool) -> None:
    assert ctx.workspace_id is not None
    ws = ctx.workspace_id
    if not raw.strip():
        # 200 with no body: the answer comes later, through PUT …/contact-attributes.
        async with ctx.db.transaction() as session:
            await service.record_outcome(session, ws, contact_id, LookupOutcome.WAITING_FOR_CRM)
        return
    try:
        if truncated:
            raise ValueError("the answer is larger than 1 MiB")
        answer = CrmAnswer.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        problem = f"contact {contact_id}: the look-up answer is not valid: {str(exc)[:300]}"
        async with ctx.db.transaction() as session:
            await service.record_outcome(session, ws, contact_id, LookupOutcome.FAILED, problem)
            await service.notify(session, ws, contact_id, [problem])
        return
    provenance = Provenance("crm", "crm", None, None, utcnow())
    async with ctx.db.transaction() as session:
        if await repository.contact_exists(session, ws, contact_id):
            await service.apply(session, ws, contact_id, answer, provenance)


@job(
    repository.WRITE_BACK_JOB,
    retry_delays=tuple(timedelta(hours=n) for n in WRITE_BACK_UNITS),
    tuning=_write_back_tuning,
)
async def write_back(ctx: JobContext) -> None:
    """Deliver one write-back event; any non-2xx is retried on the contract's schedule."""
    assert ctx.workspace_id is not None
    async with ctx.db.reader() as session:
        row = await repository.get_integration(session, ctx.workspace_id)
        if row is None or not row.write_back_url:
            raise CrmRefused("the CRM integration has no write-back URL any more")
        target, url = Target.of(row), row.write_back_url
    reply = await client.post(target, url, client.encode(ctx.payload["body"]), ctx.settings)
    if not reply.ok:
        raise CrmRefused(f"the CRM answered {reply.status}: {reply.excerpt()}")


def _notify_tuning(settings: Settings) -> tuple[tuple[timedelta, ...], timedelta]:
    return DEFAULT_RETRY_DELAYS, _lease(settings)


@job(repository.NOTIFY_JOB, tuning=_notify_tuning)
async def notify(ctx: JobContext) -> None:
    """Tell the CRM which values of its answer were not valid (DATA_IMPORT_ERROR)."""
    assert ctx.workspace_id is not None
    async with ctx.db.reader() as session:
        row = await repository.get_integration(session, ctx.workspace_id)
        if row is None or not row.notification_url:
            return
        target, url = Target.of(row), row.notification_url
    body = {
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
        "version": 2,
        "eventType": "DATA_IMPORT_ERROR",
        "messages": list(ctx.payload["messages"]),
    }
    reply = await client.post(target, url, client.encode(body), ctx.settings)
    if not reply.ok:
        raise CrmRefused(f"the CRM answered {reply.status}: {reply.excerpt()}")
