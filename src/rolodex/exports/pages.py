"""Exports > On-demand exports: the options form and the list with live progress.

The page is a shell: static/exports.js generates, polls and downloads through the REST
API (`/api/v1/exports…`), the same service calls as the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rolodex.attributes import service as attributes
from rolodex.auth.deps import SignedIn
from rolodex.catalogue import label_of
from rolodex.channels import service as channels
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.groups import service as groups
from rolodex.plans import Feature, has_feature
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)


@router.get("/exports", response_class=HTMLResponse)
async def exports_page(request: Request, session: SessionDep, principal: SignedIn) -> HTMLResponse:
    """Choose "Contact attributes", its options, Generate export; earlier exports below."""
    principal.require_admin()
    available = has_feature(principal.plan, Feature.CONTACT_ATTRIBUTE_EXPORTS)
    return page(
        request,
        "exports/index.html",
        principal,
        section="exports",
        available=available,
        channel_names=await channels.channel_names(session, principal) if available else {},
        groups=[g for g in await groups.list_groups(session, principal) if g.enabled]
        if available
        else [],
        # Built-in labels in the reader's language, labels that admins typed as typed.
        attributes=[
            (a.key, label_of(a.key, a.label))
            for a in await attributes.list_attributes(session, principal)
        ]
        if available
        else [],
    )
