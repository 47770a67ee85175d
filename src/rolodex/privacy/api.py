"""REST routes: deleting a contact, the deleted-contacts log, the auto-clear setting."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.privacy import service
from rolodex.privacy.schemas import DeletedContactRead, PrivacySettingsRead, PrivacySettingsUpdate
from rolodex.schemas import Cursor, Limit

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute)


@router.delete("/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["contacts"])
async def delete_contact(
    contact_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    hint: Annotated[str, Query(min_length=1, max_length=100)],
    include_linked: bool = False,
) -> Response:
    """Delete a contact and everything about it (admins); `hint` is kept in the log.

    With `include_linked=true` every contact linked to it is deleted too (one log entry
    each). The contact's attachment files are removed by a job after the commit.
    """
    await service.delete_contact(
        session, principal, contact_id, hint=hint, include_linked=include_linked
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/privacy/deleted-contacts", tags=["privacy"])
async def list_deleted_contacts(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> list[DeletedContactRead]:
    """Deleted contacts, newest first (admins); `q` keeps the hints holding each of its words.

    The body is the list SPEC names; the next page, when there is one, is in the
    `Link: <…>; rel="next"` header (and `X-Next-Cursor`).
    """
    items, next_cursor = await service.list_deleted(
        session, principal, q=q, cursor=cursor, limit=limit
    )
    if next_cursor:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
        response.headers["X-Next-Cursor"] = next_cursor
    return items


@router.get("/settings/privacy", tags=["settings"])
async def get_privacy_settings(
    session: SessionDep, principal: CurrentPrincipal
) -> PrivacySettingsRead:
    """Automatic clearing: contact attributes are cleared N days after a resolve (null: off)."""
    return await service.get_settings(session, principal)


@router.patch("/settings/privacy", tags=["settings"])
async def update_privacy_settings(
    data: PrivacySettingsUpdate, session: SessionDep, principal: CurrentPrincipal
) -> PrivacySettingsRead:
    """Turn automatic clearing on (1-365 days; business and enterprise) or off (admins)."""
    return await service.update_settings(session, principal, data)
