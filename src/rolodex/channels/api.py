"""REST routes for channels (admins) and their inbound messages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from rolodex.auth.deps import AdminPrincipal, CurrentPrincipal
from rolodex.channels import inbound, service
from rolodex.channels.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    InboundMessage,
    InboundResult,
)
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", tags=["channels"], route_class=TransactionalRoute)


@router.post("/channels", status_code=status.HTTP_201_CREATED)
async def create_channel(
    data: ChannelCreate, session: SessionDep, principal: AdminPrincipal
) -> ChannelRead:
    """Add a channel of a medium (admins); its platform attributes become available."""
    return ChannelRead.model_validate(await service.create_channel(session, principal, data))


@router.get("/channels")
async def list_channels(
    session: SessionDep, principal: AdminPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> Page[ChannelRead]:
    """The workspace's channels, oldest first (admins)."""
    rows, next_cursor = await service.list_channels(session, principal, cursor=cursor, limit=limit)
    return Page(items=[ChannelRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/channels/{channel_id}")
async def get_channel(
    channel_id: str, session: SessionDep, principal: AdminPrincipal
) -> ChannelRead:
    """One channel (admins)."""
    return ChannelRead.model_validate(await service.get_channel(session, principal, channel_id))


@router.patch("/channels/{channel_id}")
async def update_channel(
    channel_id: str, data: ChannelUpdate, session: SessionDep, principal: AdminPrincipal
) -> ChannelRead:
    """Rename, disable/enable or archive/unarchive a channel (admins)."""
    channel = await service.update_channel(session, principal, channel_id, data)
    return ChannelRead.model_validate(channel)


@router.delete("/channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_channel(
    channel_id: str, session: SessionDep, principal: AdminPrincipal
) -> Response:
    """Delete a channel (admins); 409 while it has conversations and is not archived."""
    await service.delete_channel(session, principal, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{channel_id}/inbound",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": InboundResult, "description": "A replay: nothing new stored."}},
)
async def receive_inbound(
    channel_id: str,
    data: InboundMessage,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> InboundResult:
    """Receive a message on a channel: 201 when stored, 200 with duplicate=true for a replay.

    Callable by admins and by any integration token (bot or CRM: the connector that
    relays a platform's messages); agents get 403. A disabled or archived channel
    answers 409, an attachment over the size limit 413, a platform attribute value
    of the wrong type 422 naming `sender.attributes.<name>`.
    """
    settings = request.app.state.settings
    result = await inbound.receive(
        session,
        principal,
        channel_id,
        data,
        data_dir=settings.data_dir,
        max_attachment_bytes=settings.max_attachment_bytes,
    )
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return result
