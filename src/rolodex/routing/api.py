"""REST routes for routing settings and the priority queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.routing import queue, settings
from rolodex.routing.schemas import QueueItem, RoutingSettingsRead, RoutingSettingsUpdate
from rolodex.schemas import Cursor, Limit, Page, Serialized

router = APIRouter(prefix="/api/v1", tags=["routing"], route_class=TransactionalRoute)


@router.get("/settings/routing")
async def get_routing(session: SessionDep, principal: CurrentPrincipal) -> RoutingSettingsRead:
    """The routing settings: VIP team, group routes, fallback team, prioritised rules."""
    return await settings.get_settings(session, principal)


@router.patch("/settings/routing")
async def update_routing(
    data: RoutingSettingsUpdate, session: SessionDep, principal: CurrentPrincipal
) -> RoutingSettingsRead:
    """Change routing (admins); open conversations are re-scored at once."""
    return await settings.update_settings(session, principal, data)


@router.get("/queue", response_model=Page[QueueItem])
async def get_queue(
    session: SessionDep,
    principal: CurrentPrincipal,
    team_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Serialized:
    """Open `new` conversations, highest priority first, oldest first on ties, explained."""
    items, next_cursor = await queue.queue(
        session, principal, team_id=team_id, cursor=cursor, limit=limit
    )
    return Serialized(Page(items=items, next_cursor=next_cursor))
