"""REST routes of the CRM integration (admins set it up; agents look up and confirm)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from rolodex.auth.deps import CurrentPrincipal
from rolodex.crm import deliveries, service
from rolodex.crm.schemas import (
    AnswerResult,
    ClientCredentialsCreate,
    ClientCredentialsCreated,
    ClientCredentialsRead,
    CrmIntegrationRead,
    CrmIntegrationUpdate,
    CrmStateRead,
    DeliveryRead,
    SharedSecretRead,
)
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.jobs.schemas import DeliveryStatus
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute, tags=["crm"])


@router.get("/integrations/crm")
async def get_crm(session: SessionDep, principal: CurrentPrincipal) -> CrmIntegrationRead:
    """The CRM integration and its shared secret (admins, enterprise)."""
    return await service.get_integration(session, principal)


@router.put("/integrations/crm")
async def put_crm(
    request: Request, data: CrmIntegrationUpdate, session: SessionDep, principal: CurrentPrincipal
) -> CrmIntegrationRead:
    """Connect the CRM or change its URLs, auth, timeout and the CRM-editing switch."""
    allow = request.app.state.settings.allow_private_webhook_targets
    return await service.put_integration(session, principal, data, allow_private=allow)


@router.delete("/integrations/crm", status_code=status.HTTP_204_NO_CONTENT)
async def delete_crm(session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Disconnect the CRM (admins)."""
    await service.delete_integration(session, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/integrations/crm/secret")
async def rotate_crm_secret(session: SessionDep, principal: CurrentPrincipal) -> SharedSecretRead:
    """Rotate the shared secret that signs every request to the CRM (admins)."""
    return await service.rotate_secret(session, principal)


@router.post("/integrations/crm/credentials", status_code=status.HTTP_201_CREATED)
async def create_crm_credentials(
    data: ClientCredentialsCreate, session: SessionDep, principal: CurrentPrincipal
) -> ClientCredentialsCreated:
    """Client credentials for the CRM to call Rolodex; the secret is shown only now."""
    return await service.create_credentials(session, principal, data)


@router.get("/integrations/crm/credentials")
async def list_crm_credentials(
    session: SessionDep, principal: CurrentPrincipal
) -> list[ClientCredentialsRead]:
    """The CRM integration's client credentials (admins)."""
    return await service.list_credentials(session, principal)


@router.delete("/integrations/crm/credentials/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_crm_credentials(
    client_id: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Revoke client credentials and their tokens (admins)."""
    await service.revoke_credentials(session, principal, client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/integrations/crm/deliveries")
async def list_crm_deliveries(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: DeliveryStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DeliveryRead]:
    """Write-back deliveries, newest first; `status=failed` lists the ones given up."""
    items, next_cursor = await deliveries.list_deliveries(
        session, principal, status=status, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/integrations/crm/deliveries/{delivery_id}/retry")
async def retry_crm_delivery(
    delivery_id: str, session: SessionDep, principal: CurrentPrincipal
) -> DeliveryRead:
    """Retry now: send a failed or waiting write-back again at once (admins)."""
    return await deliveries.retry_delivery(session, principal, delivery_id)


@router.get("/contacts/{contact_id}/crm")
async def get_contact_crm(
    contact_id: str, session: SessionDep, principal: CurrentPrincipal
) -> CrmStateRead:
    """The contact's CRM status: validated, last look-up and outcome, pending values."""
    return await service.contact_crm(session, principal, contact_id)


@router.post("/contacts/{contact_id}/crm/lookup", status_code=status.HTTP_202_ACCEPTED)
async def lookup_contact(
    contact_id: str, session: SessionDep, principal: CurrentPrincipal
) -> CrmStateRead:
    """Look the contact up in the CRM now (in the background; 409 without lookup values)."""
    return await service.request_lookup(session, principal, contact_id)


@router.post("/contacts/{contact_id}/crm/confirm")
async def confirm_contact(
    contact_id: str, session: SessionDep, principal: CurrentPrincipal
) -> AnswerResult:
    """Confirm the CRM's pending values: they become the contact's (source crm)."""
    return await service.confirm(session, principal, contact_id)
