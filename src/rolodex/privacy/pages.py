"""Privacy & security: Deleted contacts (the log, with search) and automatic clearing.

Server-rendered; the forms go through the same service calls as the REST API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.plans import Feature, has_feature
from rolodex.privacy import service
from rolodex.privacy.schemas import PrivacySettingsUpdate
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)


@router.get("/privacy", response_class=HTMLResponse)
async def privacy(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The deleted-contacts log (newest first, searchable) and the auto-clear setting."""
    principal.require_admin()
    items, next_cursor = await service.list_deleted(
        session, principal, q=q or None, cursor=cursor, limit=50
    )
    return page(
        request,
        "privacy/index.html",
        principal,
        section="privacy",
        items=items,
        next_cursor=next_cursor,
        q=q or "",
        settings=await service.get_settings(session, principal),
        auto_clear_available=has_feature(principal.plan, Feature.AUTO_CLEAR),
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/privacy/auto-clear")
async def set_auto_clear(
    session: SessionDep,
    principal: SignedInForm,
    enabled: Annotated[str | None, Form()] = None,
    days: Annotated[int | None, Form(ge=1, le=365)] = None,
) -> Response:
    """Save the auto-clear setting from the page (the same call as PATCH /settings/privacy)."""
    data = PrivacySettingsUpdate(auto_clear_days=days if enabled else None)
    await service.update_settings(session, principal, data)
    return RedirectResponse("/privacy?saved=1", status_code=303)
