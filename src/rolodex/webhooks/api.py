"""REST routes of public webhooks (admins, Business and Enterprise plans)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.jobs.schemas import DeliveryStatus
from rolodex.schemas import Cursor, Limit, Page
from rolodex.webhooks import service
from rolodex.webhooks.schemas import (
    DeliveryRead,
    SecretRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/v1/webhooks", route_class=TransactionalRoute, tags=["webhooks"])


def _allow_private(request: Request) -> bool:
    return bool(request.app.state.settings.allow_private_webhook_targets)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    request: Request, data: WebhookCreate, session: SessionDep, principal: CurrentPrincipal
) -> WebhookRead:
    """Add a webhook: its URL (https), the events it receives; its secret is made now."""
    return await service.create_webhook(
        session, principal, data, allow_private=_allow_private(request)
    )


@router.get("")
async def list_webhooks(
    session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> Page[WebhookRead]:
    """The workspace's webhooks, oldest first."""
    items, next_cursor = await service.list_webhooks(session, principal, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{webhook_id}")
async def get_webhook(
    webhook_id: str, session: SessionDep, principal: CurrentPrincipal
) -> WebhookRead:
    """One webhook, with its signing secret and why it is disabled, if it is."""
    return await service.get_webhook(session, principal, webhook_id)


@router.patch("/{webhook_id}")
async def update_webhook(
    request: Request,
    webhook_id: str,
    data: WebhookUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> WebhookRead:
    """Change a webhook's URL, events, description, or enable/disable it."""
    return await service.update_webhook(
        session, principal, webhook_id, data, allow_private=_allow_private(request)
    )


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Remove a webhook; its queued deliveries are cancelled."""
    await service.delete_webhook(session, principal, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/secret")
async def rotate_webhook_secret(
    webhook_id: str, session: SessionDep, principal: CurrentPrincipal
) -> SecretRead:
    """Rotate the signing secret; every attempt from now on is signed with the new one."""
    return await service.rotate_secret(session, principal, webhook_id)


@router.post("/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED)
async def send_test_event(
    webhook_id: str, session: SessionDep, principal: CurrentPrincipal
) -> DeliveryRead:
    """Send a `webhook.test` event to this webhook (as a delivery, in the background)."""
    return await service.send_test(session, principal, webhook_id)


@router.get("/{webhook_id}/deliveries")
async def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    status: DeliveryStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DeliveryRead]:
    """The webhook's deliveries, newest first; `status=failed` lists the ones given up."""
    items, next_cursor = await service.list_deliveries(
        session, principal, webhook_id, status=status, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(
    webhook_id: str, delivery_id: str, session: SessionDep, principal: CurrentPrincipal
) -> DeliveryRead:
    """Send a failed, cancelled or waiting delivery now (same body, same `webhook-id`)."""
    return await service.retry_delivery(session, principal, webhook_id, delivery_id)
