"""Public webhooks (B8): admins manage subscriptions; events become signed deliveries.

How it flows
------------
* A domain emits an event in its transaction; webhooks/subscribers.py, subscribed in that
  transaction, builds the event's data now and calls `enqueue` once per enabled webhook that
  receives that type: a `webhooks.deliver` job holding the exact body and its `webhook-id`,
  committed (or rolled back) with the change.
* The job (webhooks/jobs.py) signs the stored body with the webhook's current secret and
  posts it; every retry sends the same bytes under the same `webhook-id`. Failures are
  retried after 30 s, 2 min, 10 min, 1 h, 6 h and 24 h, then the delivery ends failed.
* A webhook whose deliveries have failed without a success for 3 days is disabled, with a
  reason the admin page shows; its queued deliveries are cancelled (Retry sends them).
Business and Enterprise plans; admins only.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.errors import Conflict, InvalidInput, NotFound, field_error
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.jobs.schemas import DeliveryStatus
from rolodex.kit import outbound
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Job, Webhook
from rolodex.plans import Feature
from rolodex.webhooks import repository, signing
from rolodex.webhooks.events import WebhooksChanged
from rolodex.webhooks.repository import DELIVER_JOB, DISABLED_REASON
from rolodex.webhooks.schemas import (
    TEST_EVENT,
    DeliveryRead,
    SecretRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
)

# Each emitted event reads the workspace's enabled webhooks; this keeps that read small.
MAX_WEBHOOKS = 20


def _require(principal: Principal) -> None:
    principal.require_feature(Feature.WEBHOOKS)
    principal.require_admin()


def _read(row: Webhook) -> WebhookRead:
    read = WebhookRead.model_validate(row)
    if read.disabled_reason:
        read.disabled_reason = shown_reason(read.disabled_reason)
    return read


def shown_reason(stored: str) -> str:
    """Why Rolodex disabled a webhook, in the reader's language (stored in English by the job,
    with the receiver's last error, which stays as it was)."""
    template = re.escape(DISABLED_REASON).replace(re.escape("%(error)s"), "(?P<error>.*)")
    found = re.fullmatch(template, stored, flags=re.S)
    return _(DISABLED_REASON, error=found["error"]) if found else stored


def _snapshot(row: Webhook) -> dict[str, Any]:
    # Audit rows never hold the secret.
    return {
        "url": row.url,
        "events": list(row.events),
        "description": row.description,
        "enabled": row.enabled,
    }


def _checked_url(url: str, allow_private: bool) -> str:
    try:
        return outbound.check_url(url, allow_private=allow_private)
    except outbound.UnsafeTarget as exc:
        message = jobs.unsafe_target_message(exc)
        error = field_error("url", message, "unsafe_url")
        raise InvalidInput(message, errors=[error], code="invalid_url") from exc


async def access_webhook_by_id(
    session: AsyncSession, principal: Principal, webhook_id: str, *, for_update: bool = False
) -> Webhook:
    """A webhook of the caller's workspace (admins); another workspace's is a 404 too."""
    _require(principal)
    row = await repository.get(session, principal.workspace_id, webhook_id, for_update=for_update)
    if row is None:
        raise NotFound(_("Webhook not found."))
    return row


async def create_webhook(
    session: AsyncSession, principal: Principal, data: WebhookCreate, *, allow_private: bool
) -> WebhookRead:
    """Add a webhook with a fresh signing secret (admins); audited."""
    _require(principal)
    url = _checked_url(data.url, allow_private)
    if await repository.count(session, principal.workspace_id) >= MAX_WEBHOOKS:
        raise Conflict(
            _("A workspace can have at most %(max)s webhooks.", max=MAX_WEBHOOKS),
            code="too_many_webhooks",
        )
    now = utcnow()
    row = Webhook(
        id=new_id("whk"),
        workspace_id=principal.workspace_id,
        url=url,
        events=sorted({e.value for e in data.events}),
        description=data.description,
        secret=signing.new_secret(),
        enabled=data.enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await emit(session, WebhooksChanged(workspace_id=principal.workspace_id))
    await audit.record(
        session,
        principal,
        "webhook.created",
        target_type="webhook",
        target_id=row.id,
        after=_snapshot(row),
    )
    return _read(row)


async def list_webhooks(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[WebhookRead], str | None]:
    """The workspace's webhooks, oldest first (admins)."""
    _require(principal)
    stmt = repository.webhooks_of(principal.workspace_id)
    rows, next_cursor = await id_page(session, stmt, Webhook.id, cursor=cursor, limit=limit)
    return [_read(r) for r in rows], next_cursor


async def get_webhook(session: AsyncSession, principal: Principal, webhook_id: str) -> WebhookRead:
    """One webhook and its secret (admins)."""
    return _read(await access_webhook_by_id(session, principal, webhook_id))


async def update_webhook(
    session: AsyncSession,
    principal: Principal,
    webhook_id: str,
    data: WebhookUpdate,
    *,
    allow_private: bool,
) -> WebhookRead:
    """Change a webhook (admins); enabling it clears its failure state, disabling it cancels
    its queued deliveries. Audited."""
    row = await access_webhook_by_id(session, principal, webhook_id, for_update=True)
    before = _snapshot(row)
    if data.url is not None:
        row.url = _checked_url(data.url, allow_private)
    if data.events is not None:
        row.events = sorted({e.value for e in data.events})
    if data.description is not None:
        row.description = data.description
    if data.enabled is not None and data.enabled != row.enabled:
        row.enabled = data.enabled
        row.disabled_reason, row.failing_since = None, None
        if not data.enabled:
            await jobs.cancel_for_ref(session, principal.workspace_id, row.id)
    row.updated_at = utcnow()
    await session.flush()
    await emit(session, WebhooksChanged(workspace_id=principal.workspace_id))
    after = _snapshot(row)
    if after != before:
        await audit.record(
            session,
            principal,
            "webhook.updated",
            target_type="webhook",
            target_id=row.id,
            before=before,
            after=after,
        )
    return _read(row)


async def delete_webhook(session: AsyncSession, principal: Principal, webhook_id: str) -> None:
    """Remove a webhook and cancel its queued deliveries (admins); audited."""
    row = await access_webhook_by_id(session, principal, webhook_id, for_update=True)
    before = _snapshot(row)
    await jobs.cancel_for_ref(session, principal.workspace_id, row.id)
    await session.delete(row)
    await session.flush()
    await emit(session, WebhooksChanged(workspace_id=principal.workspace_id))
    await audit.record(
        session,
        principal,
        "webhook.deleted",
        target_type="webhook",
        target_id=webhook_id,
        before=before,
    )


async def rotate_secret(session: AsyncSession, principal: Principal, webhook_id: str) -> SecretRead:
    """A new signing secret; every attempt from now on, retries too, is signed with it."""
    row = await access_webhook_by_id(session, principal, webhook_id, for_update=True)
    row.secret = signing.new_secret()
    row.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session, principal, "webhook.secret_rotated", target_type="webhook", target_id=row.id
    )
    return SecretRead(secret=row.secret)


# --- deliveries ------------------------------------------------------------------------


async def enqueue(
    session: AsyncSession,
    workspace_id: str,
    webhook_ids: list[str],
    event_type: str,
    data: dict[str, Any],
    *,
    contact_id: str | None,
) -> list[str]:
    """One delivery job per webhook, in the caller's transaction; returns the job ids.

    `contact_id` names the contact whose data the body carries: erasing that contact deletes
    the delivery with it. The contact.deleted event itself passes None, so that it goes out.
    """
    at = utcnow()
    body = signing.encode(event_type, at, data)
    created = []
    for webhook_id in webhook_ids:
        payload = {
            "webhook_id": webhook_id,
            "message_id": signing.new_message_id(),
            "type": event_type,
            "body": body,
        }
        job_id = await jobs.enqueue(
            session,
            DELIVER_JOB,
            payload,
            workspace_id=workspace_id,
            ref=webhook_id,
            contact_id=contact_id,
        )
        created.append(job_id)
    return created


def _delivery(job: Job) -> DeliveryRead:
    waiting = job.status == "queued"
    return DeliveryRead(
        id=job.id,
        webhook_id=str(job.ref or ""),
        event=str(job.payload.get("type", "")),
        message_id=str(job.payload.get("message_id", "")),
        status=DeliveryStatus(job.status),
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        last_error=job.last_error,
        created_at=job.created_at,
        next_attempt_at=job.run_at if waiting else None,
        finished_at=job.finished_at,
    )


async def send_test(session: AsyncSession, principal: Principal, webhook_id: str) -> DeliveryRead:
    """Queue a `webhook.test` event to this webhook now (admins; 409 if it is disabled)."""
    row = await access_webhook_by_id(session, principal, webhook_id)
    if not row.enabled:
        raise Conflict(_("Enable the webhook to send it a test event."), code="webhook_disabled")
    data = {"webhook_id": row.id, "message": "A test event from Rolodex."}
    (job_id,) = await enqueue(
        session, principal.workspace_id, [row.id], TEST_EVENT, data, contact_id=None
    )
    job = await repository.get_delivery(session, principal.workspace_id, row.id, job_id)
    assert job is not None
    return _delivery(job)


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    webhook_id: str,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DeliveryRead], str | None]:
    """A webhook's deliveries, newest first, optionally of one status (admins)."""
    row = await access_webhook_by_id(session, principal, webhook_id)
    stmt = repository.deliveries_of(principal.workspace_id, row.id)
    if status is not None:
        stmt = stmt.where(Job.status == status.value)
    rows, next_cursor = await id_page(
        session, stmt, Job.id, cursor=cursor, limit=limit, newest_first=True
    )
    return [_delivery(r) for r in rows], next_cursor


async def retry_delivery(
    session: AsyncSession, principal: Principal, webhook_id: str, delivery_id: str
) -> DeliveryRead:
    """Send a delivery again now: a failed or cancelled one gets one more attempt, a waiting
    one goes at once; the same body under the same `webhook-id` (admins)."""
    row = await access_webhook_by_id(session, principal, webhook_id)
    job = await repository.get_delivery(session, principal.workspace_id, row.id, delivery_id)
    if job is None:
        raise NotFound(_("Delivery not found."))
    if not row.enabled:
        raise Conflict(_("Enable the webhook to retry its deliveries."), code="webhook_disabled")
    return _delivery(await jobs.send_now(session, job, again=("failed", "cancelled")))
