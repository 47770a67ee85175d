"""REST routes of the composed reads: contacts as read, their values, the Contact tab, the list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from rolodex.attributes.schemas import ContactAttributesUpdate
from rolodex.auth.deps import CurrentPrincipal
from rolodex.conversations.schemas import ConversationRead, Status
from rolodex.conversations.service import ConversationFilters
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.inbox import service
from rolodex.inbox.schemas import AttributeChangeRead, ContactRead, ContactTabRead
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute)

Search = Annotated[
    str | None, Query(max_length=200, description="Part of a display name or attribute value.")
]
ChannelFilter = Annotated[str | None, Query(max_length=40, description="Only this channel's.")]
IdFilter = Annotated[str | None, Query(max_length=40)]


@router.get("/contacts", tags=["contacts"])
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


@router.get("/contacts/{contact_id}", tags=["contacts"])
async def get_contact(
    contact_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ContactRead:
    """One contact with its attribute values."""
    return await service.read_contact(session, principal, contact_id)


@router.get("/contacts/{contact_id}/history", tags=["contacts"])
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


@router.patch("/contacts/{contact_id}/attributes", tags=["contacts"])
async def write_contact_attributes(
    contact_id: str,
    data: ContactAttributesUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ContactRead:
    """Set (or clear with null) some of a contact's attribute values, all or nothing."""
    return await service.write_contact_attributes(session, principal, contact_id, data)


@router.get("/conversations/{conversation_id}/contact-tab", tags=["conversations"])
async def get_contact_tab(
    conversation_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ContactTabRead:
    """The Contact tab: the enabled attributes for the conversation's channel, in order."""
    return await service.contact_tab(session, principal, conversation_id)


@router.get("/conversations", tags=["conversations"])
async def list_conversations(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[Status | None, Query()] = None,
    channel_id: IdFilter = None,
    team_id: IdFilter = None,
    assignee_id: IdFilter = None,
    contact_id: IdFilter = None,
    group: Annotated[str | None, Query(max_length=80, description="A contact group key.")] = None,
    vip: Annotated[bool | None, Query(description="Only VIP (or non-VIP) contacts'.")] = None,
    sort: Annotated[Literal["priority"] | None, Query(description="priority: queue order.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ConversationRead]:
    """Conversations, newest first (or by priority), filtered by status, team, group, VIP…."""
    filters = ConversationFilters(status, channel_id, team_id, assignee_id, contact_id, sort)
    items, next_cursor = await service.list_conversations(
        session, principal, filters, group=group, vip=vip, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)
