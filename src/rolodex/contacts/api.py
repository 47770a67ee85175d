"""REST routes for contacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rolodex.auth.deps import CurrentPrincipal
from rolodex.contacts import service
from rolodex.contacts.schemas import AttributeChangeRead, ContactRead
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", tags=["contacts"], route_class=TransactionalRoute)

Search = Annotated[
    str | None, Query(max_length=200, description="Part of a display name or attribute value.")
]
ChannelFilter = Annotated[str | None, Query(max_length=40, description="Only this channel's.")]


@router.get("/contacts")
async def list_contacts(
    session: SessionDep,
    principal: CurrentPrincipal,
    q: Search = None,
    channel_id: ChannelFilter = None,
    group: Annotated[str | None, Query(max_length=80, description="A contact group key.")] = None,
    vip: Annotated[bool | None, Query(description="Only VIP (or non-VIP) contacts.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ContactRead]:
    """Contacts, newest first, searched by display name and values, or by group or VIP."""
    items, next_cursor = await service.list_contacts(
        session,
        principal,
        q=q,
        channel_id=channel_id,
        cursor=cursor,
        limit=limit,
        group=group,
        vip=vip,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/contacts/{contact_id}")
async def get_contact(
    contact_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ContactRead:
    """One contact with its attribute values."""
    return await service.read_contact(session, principal, contact_id)


@router.get("/contacts/{contact_id}/history")
async def get_contact_history(
    contact_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    key: Annotated[str | None, Query(max_length=80, description="Only this attribute's.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[AttributeChangeRead]:
    """The contact's attribute change history, newest first (who, what, which channel, when)."""
    items, next_cursor = await service.contact_history(
        session, principal, contact_id, key=key, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)
