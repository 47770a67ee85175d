"""REST routes of the composed reads: contacts as read, their values, the Contact tab, the list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from rolodex.attributes.schemas import ContactAttributesUpdate
from rolodex.auth.deps import CurrentPrincipal
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import ConversationCounts, Status
from rolodex.conversations.service import UNASSIGNED, ConversationFilters
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import InvalidInput
from rolodex.i18n import _
from rolodex.inbox import service
from rolodex.inbox.schemas import (
    AttributeChangeRead,
    ContactRead,
    ContactTabRead,
    ConversationItem,
)
from rolodex.schemas import (
    STALE_RESPONSES,
    Cursor,
    IfMatchHeader,
    Limit,
    Page,
    Serialized,
    Text,
    set_etag,
)

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute)

Search = Annotated[
    Text | None,
    Query(
        max_length=200,
        description="Words (each a prefix, all required) of a name, an attribute value or a "
        "message.",
    ),
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
    contact_id: str, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ContactRead:
    """One contact with its attribute values; ETag: its version."""
    read = await service.read_contact(session, principal, contact_id)
    set_etag(response, read.version)
    return read


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


@router.patch("/contacts/{contact_id}/attributes", tags=["contacts"], responses=STALE_RESPONSES)
async def write_contact_attributes(
    contact_id: str,
    data: ContactAttributesUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatchHeader,
) -> ContactRead:
    """Set (or clear with null) some of a contact's attribute values, all or nothing.

    With If-Match (the contact's ETag), only if none of its values changed since.
    """
    read = await service.write_contact_attributes(
        session, principal, contact_id, data, if_match=if_match
    )
    set_etag(response, read.version)
    return read


@router.get(
    "/conversations/{conversation_id}/contact-tab",
    tags=["conversations"],
    response_model=ContactTabRead,
)
async def get_contact_tab(
    conversation_id: str, session: SessionDep, principal: CurrentPrincipal
) -> Serialized:
    """The Contact tab: the enabled attributes for the conversation's channel, in order."""
    return Serialized(await service.contact_tab(session, principal, conversation_id))


@router.get("/conversations/counts", tags=["conversations"])
async def conversation_counts(
    session: SessionDep, principal: CurrentPrincipal
) -> ConversationCounts:
    """The caller's badges: waiting (new, theirs or no one's: the page title's count), their new
    ones, new unassigned ones, their open unread ones."""
    return await conversations.counts(session, principal)


@router.get("/conversations", tags=["conversations"], response_model=Page[ConversationItem])
async def list_conversations(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[Status | None, Query()] = None,
    channel_id: IdFilter = None,
    team_id: IdFilter = None,
    assignee_id: Annotated[
        str | None,
        Query(max_length=40, description="`me`, `none` (unassigned) or a user id."),
    ] = None,
    q: Search = None,
    contact_id: IdFilter = None,
    group: Annotated[str | None, Query(max_length=80, description="A contact group key.")] = None,
    vip: Annotated[bool | None, Query(description="Only VIP (or non-VIP) contacts'.")] = None,
    sort: Annotated[Literal["priority"] | None, Query(description="priority: queue order.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Serialized:
    """Conversations, newest first (or by priority), filtered by status, assignee (me, none),
    team, group, VIP, or searched (q); each with its last message, VIP and unread marks."""
    if assignee_id == "me":
        if principal.user_id is None:
            raise InvalidInput.for_field(
                "query.assignee_id", _("Only a signed-in person has conversations of their own.")
            )
        assignee_id = principal.user_id
    elif assignee_id == "none":
        assignee_id = UNASSIGNED
    filters = ConversationFilters(status, channel_id, team_id, assignee_id, contact_id, sort)
    items, next_cursor = await service.list_conversations(
        session, principal, filters, group=group, vip=vip, cursor=cursor, limit=limit, q=q
    )
    return Serialized(Page(items=items, next_cursor=next_cursor))
