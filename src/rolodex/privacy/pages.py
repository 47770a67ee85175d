"""Privacy & security: Deleted contacts (the log, with search) and automatic clearing.

Server-rendered; the forms go through the same service calls as the REST API. A value the
auto-clear form cannot take is said beside its field, on the page as it was filled in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.deps import SignedIn, SignedInForm
from rolodex.auth.principals import Principal
from rolodex.catalogue import medium_label
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.i18n import _
from rolodex.plans import Feature, has_feature
from rolodex.privacy import service
from rolodex.privacy.schemas import MAX_AUTO_CLEAR_DAYS, PrivacySettingsUpdate
from rolodex.web import page

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)


async def _render(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    q: str = "",
    cursor: str | None = None,
    saved: bool = False,
    form: dict[str, str] | None = None,
    days_error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    items, next_cursor = await service.list_deleted(
        session, principal, q=q or None, cursor=cursor, limit=50
    )
    settings = await service.get_settings(session, principal)
    if form is None:
        form = {
            "enabled": "1" if settings.auto_clear_days else "",
            "days": str(settings.auto_clear_days or 30),
        }
    return page(
        request,
        "privacy/index.html",
        principal,
        section="privacy",
        items=[(item, medium_label(item.medium)) for item in items],
        next_cursor=next_cursor,
        q=q,
        form=form,
        days_error=days_error,
        max_days=MAX_AUTO_CLEAR_DAYS,
        auto_clear_available=has_feature(principal.plan, Feature.AUTO_CLEAR),
        saved=saved,
        status_code=status_code,
    )


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
    return await _render(
        request,
        session,
        principal,
        q=(q or "").strip(),
        cursor=cursor,
        saved=request.query_params.get("saved") == "1",
    )


def _days(enabled: bool, text: str) -> tuple[int | None, str]:
    """The period the form asks for, or why it cannot be taken (said beside the field)."""
    if not enabled:
        return None, ""
    try:
        days = int(text.strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_AUTO_CLEAR_DAYS:
        return None, _("Enter a number from 1 to %(max)s.", max=MAX_AUTO_CLEAR_DAYS)
    return days, ""


@router.post("/privacy/auto-clear", response_model=None)
async def set_auto_clear(
    request: Request,
    session: SessionDep,
    principal: SignedInForm,
    enabled: Annotated[str | None, Form()] = None,
    days: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save the auto-clear setting from the page (the same call as PATCH /settings/privacy)."""
    principal.require_admin()
    period, error = _days(bool(enabled), days)
    if error:
        form = {"enabled": "1" if enabled else "", "days": days}
        return await _render(
            request, session, principal, form=form, days_error=error, status_code=422
        )
    await service.update_settings(session, principal, PrivacySettingsUpdate(auto_clear_days=period))
    return RedirectResponse("/privacy?saved=1", status_code=303)
