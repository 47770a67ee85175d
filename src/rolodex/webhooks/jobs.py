"""The delivery job: sign the stored body with the webhook's current secret and post it.

It reads the webhook in a short transaction, posts outside any transaction, then records the
outcome in another, so a slow receiver holds no database lock. A failure is raised, so that
the worker retries it on this kind's schedule with the same body and `webhook-id`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

import httpx

from rolodex.jobs import service as jobs
from rolodex.jobs.registry import JobContext, job
from rolodex.kit import outbound
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.webhooks import repository, signing
from rolodex.webhooks.events import WebhooksChanged

RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (30, 120, 600, 3600, 6 * 3600, 24 * 3600))
# One request with TIMEOUT_SECONDS; the lease leaves room for the database work around it.
TIMEOUT_SECONDS = 10.0
LEASE = timedelta(seconds=60)
# A webhook failing this long without a single success is disabled.
DISABLE_AFTER = timedelta(days=3)


class DeliveryFailed(RuntimeError):
    """The receiver did not accept the delivery (retried)."""


@job(repository.DELIVER_JOB, retry_delays=RETRY_DELAYS, lease=LEASE)
async def deliver(ctx: JobContext) -> None:
    """Post one event to one webhook, signed per the Standard Webhooks specification."""
    assert ctx.workspace_id is not None
    webhook_id = str(ctx.payload["webhook_id"])
    async with ctx.db.reader() as session:
        row = await repository.get(session, ctx.workspace_id, webhook_id)
    if row is None:
        return  # deleted meanwhile: there is nobody to deliver to
    if not row.enabled:
        await _cancel(ctx, "the webhook is disabled")
    url, secret, failing = row.url, row.secret, row.failing_since is not None
    body = str(ctx.payload["body"])
    headers = signing.headers(secret, str(ctx.payload["message_id"]), body, utcnow())
    error = await _post(ctx, url, body.encode(), headers)
    if error is None:
        if failing:
            async with ctx.db.transaction() as session:
                await repository.record_success(session, webhook_id)
        return
    now = utcnow()
    async with ctx.db.transaction() as session:
        reason = repository.DISABLED_REASON % {"error": error[:300]}
        cutoff = now - DISABLE_AFTER
        if await repository.record_failure(session, webhook_id, now, cutoff, reason):
            # Disabled (by this failure or a concurrent one): nothing more is attempted.
            await jobs.cancel_for_ref(session, ctx.workspace_id, webhook_id)
            await emit(session, WebhooksChanged(workspace_id=ctx.workspace_id))
            error = f"{error}; the webhook is disabled"
            await repository.cancel_own_attempt(session, ctx.job_id, ctx.attempt, now, error)
    raise DeliveryFailed(error)


async def _cancel(ctx: JobContext, error: str) -> NoReturn:
    """Nothing more goes to a disabled webhook: this delivery ends cancelled (Retry resends)."""
    async with ctx.db.transaction() as session:
        await repository.cancel_own_attempt(session, ctx.job_id, ctx.attempt, utcnow(), error)
    raise DeliveryFailed(error)


async def _post(ctx: JobContext, url: str, body: bytes, headers: dict[str, str]) -> str | None:
    """Send; None on a 2xx, else what went wrong."""
    allow = ctx.settings.allow_private_webhook_targets
    try:
        async with outbound.client(TIMEOUT_SECONDS) as http:
            reply = await outbound.send(
                http, "POST", url, content=body, headers=headers, allow_private=allow
            )
    except outbound.UnsafeTarget as exc:
        return f"refused target: {exc}"
    except httpx.TimeoutException:
        return f"no answer within {TIMEOUT_SECONDS:.0f}s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if reply.ok:
        return None
    return f"the receiver answered {reply.status}: {reply.excerpt()}"
