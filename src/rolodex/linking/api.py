"""REST routes for contact settings (matching, mappings), links and the cross-channel history."""

from __future__ import annotations

from fastapi import APIRouter

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.linking import service
from rolodex.linking.schemas import (
    ContactSettingsRead,
    ContactSettingsUpdate,
    HistoryConversationRead,
    LinkRead,
)
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute)


@router.get("/settings/contacts", tags=["settings"])
async def get_contact_settings(
    session: SessionDep, principal: CurrentPrincipal
) -> ContactSettingsRead:
    """The attribute used for matching contacts across channels, and the mappings."""
    return await service.get_settings(session, principal)


@router.patch("/settings/contacts", tags=["settings"])
async def update_contact_settings(
    data: ContactSettingsUpdate, session: SessionDep, principal: CurrentPrincipal
) -> ContactSettingsRead:
    """Change or clear (null) the attribute used for matching, or replace the mappings (admins)."""
    return await service.update_settings(session, principal, data)


@router.get("/contacts/{contact_id}/links", tags=["contacts"])
async def get_contact_links(
    contact_id: str, session: SessionDep, principal: CurrentPrincipal
) -> list[LinkRead]:
    """The contacts linked to this one, each with why ("linked because email matches")."""
    return await service.contact_links(session, principal, contact_id)


@router.get("/contacts/{contact_id}/conversations", tags=["contacts"])
async def get_contact_conversations(
    contact_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[HistoryConversationRead]:
    """The cross-channel history: conversations of the contact and every linked contact."""
    items, next_cursor = await service.cross_channel_history(
        session, principal, contact_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)
