"""Admin settings > Integrations & API > CRM: a shell page; static/crm.js does the work
through the REST API (`/api/v1/integrations/crm…`), the same service calls as the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rolodex.auth.deps import SignedIn
from rolodex.db import TransactionalRoute
from rolodex.i18n import translate
from rolodex.jobs.schemas import DELIVERY_STATUS_LABELS
from rolodex.plans import Feature, has_feature
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)


@router.get("/admin/crm", response_class=HTMLResponse)
async def crm_page(request: Request, principal: SignedIn) -> HTMLResponse:
    """The CRM connection, its secret, client credentials, the editing switch, deliveries."""
    principal.require_admin()
    return page(
        request,
        "crm/admin.html",
        principal,
        section="admin",
        available=has_feature(principal.plan, Feature.CRM_INTEGRATION),
        delivery_statuses=[
            (s.value, translate(label)) for s, label in DELIVERY_STATUS_LABELS.items()
        ],
    )
