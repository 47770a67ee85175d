"""REST routes for channels (admins) and their inbound messages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse

from rolodex.auth.deps import AdminPrincipal, CurrentPrincipal
from rolodex.channels import connections, delivery, inbound, intake, media, service
from rolodex.channels.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    ConnectionTestResult,
    InboundMessage,
    InboundResult,
    WebhookEventRead,
)
from rolodex.config import Settings
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1", tags=["channels"], route_class=TransactionalRoute)
# What platforms and visitors' browsers call: no bearer token (signatures and signed links).
public = APIRouter(tags=["platform webhooks"], route_class=TransactionalRoute)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post("/channels", status_code=status.HTTP_201_CREATED)
async def create_channel(
    data: ChannelCreate, request: Request, session: SessionDep, principal: AdminPrincipal
) -> ChannelRead:
    """Add a channel of a medium (admins), connected to its platform when `connection` is given."""
    settings = _settings(request)
    channel = await service.create_channel(session, principal, data, settings)
    return service.read(channel, settings)


@router.get("/channels")
async def list_channels(
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ChannelRead]:
    """The workspace's channels, oldest first (admins)."""
    rows, next_cursor = await service.list_channels(session, principal, cursor=cursor, limit=limit)
    settings = _settings(request)
    return Page(items=[service.read(r, settings) for r in rows], next_cursor=next_cursor)


@router.get("/channels/{channel_id}")
async def get_channel(
    channel_id: str, request: Request, session: SessionDep, principal: AdminPrincipal
) -> ChannelRead:
    """One channel (admins), with its webhook URL when connected."""
    channel = await service.get_channel(session, principal, channel_id)
    return service.read(channel, _settings(request))


@router.patch("/channels/{channel_id}")
async def update_channel(
    channel_id: str,
    data: ChannelUpdate,
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
) -> ChannelRead:
    """Rename, disable/enable, archive, connect or (connection: null) disconnect a channel."""
    settings = _settings(request)
    channel = await service.update_channel(session, principal, channel_id, data, settings)
    return service.read(channel, settings)


@router.post("/channels/{channel_id}/identity-secret")
async def rotate_identity_secret(
    channel_id: str, request: Request, session: SessionDep, principal: AdminPrincipal
) -> ChannelRead:
    """A new identity secret for a web chat channel (admins): the old one stops verifying."""
    channel = await service.rotate_identity_secret(session, principal, channel_id)
    return service.read(channel, _settings(request))


@router.post("/channels/{channel_id}/connection/test")
async def test_connection(
    channel_id: str, request: Request, session: SessionDep, principal: AdminPrincipal
) -> ConnectionTestResult:
    """Call the platform with the stored credentials (admins): `ok` and the account it named."""
    return await service.test_connection(session, principal, channel_id, _settings(request))


@router.get("/channels/{channel_id}/webhook-events")
async def list_webhook_events(
    channel_id: str,
    session: SessionDep,
    principal: AdminPrincipal,
    event_status: Annotated[
        Literal["pending", "processed", "failed"] | None, Query(alias="status")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[WebhookEventRead]:
    """The channel's stored platform deliveries, newest first (admins); `?status=failed`."""
    rows, next_cursor = await service.list_webhook_events(
        session, principal, channel_id, status=event_status, cursor=cursor, limit=limit
    )
    return Page(items=rows, next_cursor=next_cursor)


@router.post("/channels/{channel_id}/webhook-events/{event_id}/retry")
async def retry_webhook_event(
    channel_id: str, event_id: str, session: SessionDep, principal: AdminPrincipal
) -> WebhookEventRead:
    """Process a failed delivery again (admins); 409 `not_failed` otherwise."""
    return await service.retry_webhook_event(session, principal, channel_id, event_id)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["conversations"],
)
async def retry_delivery(
    conversation_id: str, message_id: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Send a failed reply again; 409 `not_failed` unless its delivery failed."""
    await delivery.retry(session, principal, conversation_id, message_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/attachments/{attachment_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["conversations"],
)
async def retry_attachment(
    attachment_id: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Download a platform's file again after it failed; 409 `not_failed` otherwise."""
    await media.retry(session, principal, attachment_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@public.get("/webhooks/{channel_id}", response_class=Response)
async def verify_webhook(channel_id: str, request: Request, session: SessionDep) -> Response:
    """The platform's verification handshake (Meta: hub.challenge when hub.verify_token matches)."""
    answer = await intake.handshake(session, channel_id, request.query_params, _settings(request))
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)


# No request transaction: deliveries are stored by the intake's group commit.
intake_router = APIRouter(tags=["platform webhooks"])


@intake_router.post("/webhooks/{channel_id}", response_class=Response)
async def receive_webhook(channel_id: str, request: Request) -> Response:
    """A platform's delivery: signature checked over the raw body, stored, then acknowledged."""
    answer = await intake.accept(
        request.app.state.database,
        channel_id,
        url=_signed_url(request, channel_id),
        headers=request.headers,
        body=await request.body(),
        settings=_settings(request),
    )
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)


def _signed_url(request: Request, channel_id: str) -> str:
    # The address the platform called as ROLODEX_PUBLIC_URL names it (behind a proxy the
    # request's own URL differs): Twilio signs it, query string included.
    url = connections.channel_webhook_url(channel_id, _settings(request))
    query = request.url.query
    return f"{url}?{query}" if query else url


@public.get("/public/v1/files/{attachment_id}", response_class=FileResponse)
async def public_file(
    attachment_id: str,
    request: Request,
    session: SessionDep,
    expires: int = 0,
    signature: Annotated[str, Query(max_length=128)] = "",
) -> FileResponse:
    """One attachment behind a signed, expiring link (platforms that fetch files by URL)."""
    found = await delivery.public_file(
        session, _settings(request), attachment_id, expires, signature
    )
    return FileResponse(found.path, media_type=found.content_type, filename=found.filename)


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
