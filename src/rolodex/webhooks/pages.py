"""Admin settings > Integrations & API > Webhooks: a shell page; static/webhooks.js does the
work through the REST API (`/api/v1/webhooks…`), the same service calls as the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rolodex.auth.deps import SignedIn
from rolodex.db import TransactionalRoute
from rolodex.i18n import N_, translate
from rolodex.plans import Feature, has_feature
from rolodex.web import page
from rolodex.webhooks.schemas import EventType

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

EVENT_LABELS = {
    EventType.CONTACT_CREATED: N_("A contact is created"),
    EventType.CONTACT_UPDATED: N_("A contact's attributes change"),
    EventType.CONTACT_DELETED: N_("A contact is deleted"),
    EventType.CONVERSATION_CREATED: N_("A conversation starts"),
    EventType.CONVERSATION_UPDATED: N_("A conversation's status or assignee changes"),
    EventType.MESSAGE_CREATED: N_("A message is received or sent"),
}


@router.get("/admin/webhooks", response_class=HTMLResponse)
async def webhooks_page(request: Request, principal: SignedIn) -> HTMLResponse:
    """Webhooks: add one, its secret, enable/disable, test events, deliveries and Retry."""
    principal.require_admin()
    return page(
        request,
        "webhooks/admin.html",
        principal,
        section="admin",
        available=has_feature(principal.plan, Feature.WEBHOOKS),
        events=[(e.value, translate(EVENT_LABELS[e])) for e in EventType],
    )
