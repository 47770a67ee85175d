"""The public visitor API of web chat channels (SPEC "Web chat widget").

No admin token: a visitor holds a session token (Bearer, or `?token=` for EventSource). Every
route answers only pages of the channel's allowed origins (CORS; a browser request from any
other origin is refused with 403) and is rate-limited per client address, and sending per
session too (429 with Retry-After). A session reads its own contact's messages on its own
channel, nothing else.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter
from sse_starlette import EventSourceResponse

from rolodex.config import Settings
from rolodex.db import Database, SessionDep, TransactionalRoute
from rolodex.errors import Forbidden, TooManyRequests
from rolodex.i18n import N_, _
from rolodex.middleware import CORS_STATE
from rolodex.models import Channel, WebchatSession
from rolodex.stream import service as live
from rolodex.webchat import service
from rolodex.webchat.schemas import (
    SessionCreate,
    SessionCreated,
    SessionRead,
    SessionUpdate,
    VisitorMessage,
    VisitorMessageCreate,
    VisitorMessages,
    WidgetConfig,
)

PREFIX = "/public/v1/webchat"
router = APIRouter(prefix=PREFIX, route_class=TransactionalRoute, tags=["webchat"])


class RateLimited(TooManyRequests):
    """Too many visitor requests in a minute (429, Retry-After)."""

    code = "rate_limited"
    title = N_("Too many requests")


_storage = MemoryStorage()
_limiter = FixedWindowRateLimiter(_storage)


async def reset_limits() -> None:
    """Forget every count (tests)."""
    await _storage.reset()


async def _limit(kind: str, key: str, per_minute: int) -> None:
    item = RateLimitItemPerMinute(per_minute)
    if not await _limiter.hit(item, "webchat", kind, key):
        reset, _remaining = await _limiter.get_window_stats(item, "webchat", kind, key)
        raise RateLimited(
            _("Too many requests. Wait a moment and try again."),
            retry_after=math.ceil(reset - time.time()),
        )


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _channel(request: Request, session: SessionDep, channel_id: str) -> Channel:
    # The origin is checked before anything else is done for the request.
    found = await service.channel(session, channel_id)
    origin = request.headers.get("origin")
    if origin is not None:
        if origin not in service.allowed_origins(found, _settings(request)):
            raise Forbidden(
                _("This site may not use this chat: add it to the channel's allowed origins."),
                code="origin_not_allowed",
            )
        setattr(request.state, CORS_STATE, origin)
    return found


async def _reads(request: Request) -> None:
    await _limit("read", _address(request), _settings(request).webchat_reads_per_minute)


_bearer = HTTPBearer(auto_error=False, description="The visitor's session token.")
Authorization = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(
    authorization: HTTPAuthorizationCredentials | None, query_token: str | None = None
) -> str | None:
    return authorization.credentials if authorization is not None else query_token


@router.options("/{channel_id}/{rest:path}", include_in_schema=False)
async def preflight(request: Request, session: SessionDep, channel_id: str, rest: str) -> Response:
    """CORS preflight: an allowed origin may send Authorization and JSON."""
    await _channel(request, session, channel_id)
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={
            "Access-Control-Allow-Methods": "GET, POST, PATCH, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )


@router.get("/{channel_id}/config")
async def get_config(
    request: Request, response: Response, session: SessionDep, channel_id: str
) -> WidgetConfig:
    """The widget's look and pre-chat fields."""
    await _reads(request)
    found = await _channel(request, session, channel_id)
    # Asked on every page load of the company's site: a minute's cache spares the server.
    response.headers["Cache-Control"] = "public, max-age=60"
    return service.config(found, _settings(request))


@router.post("/{channel_id}/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(
    request: Request, session: SessionDep, channel_id: str, data: SessionCreate
) -> SessionCreated:
    """Start a visitor session (a verified identifier when its hash holds; 401 if it does not)."""
    settings = _settings(request)
    await _limit("session", _address(request), settings.webchat_sessions_per_minute)
    found = await _channel(request, session, channel_id)
    return await service.start(session, found, data)


async def _visitor(
    request: Request, session: SessionDep, channel_id: str, token: str | None
) -> tuple[Channel, WebchatSession]:
    found = await _channel(request, session, channel_id)
    return found, await service.visitor(session, found, token)


@router.get("/{channel_id}/session")
async def get_session(
    request: Request, session: SessionDep, channel_id: str, authorization: Authorization = None
) -> SessionRead:
    """The session's contact and open conversation (401: start a new session)."""
    await _reads(request)
    _found, row = await _visitor(request, session, channel_id, _token(authorization))
    return await service.read(session, row)


@router.patch("/{channel_id}/session")
async def update_session(
    request: Request,
    session: SessionDep,
    channel_id: str,
    data: SessionUpdate,
    authorization: Authorization = None,
) -> SessionRead:
    """Refresh the visitor's page and details."""
    await _reads(request)
    found, row = await _visitor(request, session, channel_id, _token(authorization))
    return await service.update(session, found, row, data)


@router.get("/{channel_id}/messages")
async def list_messages(
    request: Request,
    session: SessionDep,
    channel_id: str,
    conversation_id: Annotated[str | None, Query(max_length=40)] = None,
    authorization: Authorization = None,
) -> VisitorMessages:
    """The visitor's history on this channel (or one of their conversations), oldest first."""
    await _reads(request)
    _found, row = await _visitor(request, session, channel_id, _token(authorization))
    items = await service.history(session, row, _settings(request), conversation_id)
    return VisitorMessages(items=items)


@router.post("/{channel_id}/messages", status_code=status.HTTP_201_CREATED)
async def send_message(
    request: Request,
    session: SessionDep,
    channel_id: str,
    data: VisitorMessageCreate,
    authorization: Authorization = None,
) -> VisitorMessage:
    """The visitor writes (text and/or pictures and PDFs)."""
    settings = _settings(request)
    per_minute = settings.webchat_messages_per_minute
    await _limit("send-address", _address(request), per_minute * 5)
    found, row = await _visitor(request, session, channel_id, _token(authorization))
    await _limit("send-session", row.id, per_minute)
    return await service.send(session, found, row, data, settings)


@router.get(
    "/{channel_id}/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream."}},
)
async def stream(
    request: Request,
    session: SessionDep,
    channel_id: str,
    token: Annotated[str | None, Query(max_length=200)] = None,
    authorization: Authorization = None,
) -> EventSourceResponse:
    """Server-sent `message.created` events of the visitor's own conversations."""
    await _reads(request)
    _found, row = await _visitor(request, session, channel_id, _token(authorization, token))
    settings = _settings(request)
    broker: live.Broker = request.app.state.stream
    render = _render(request.app.state.database, row, settings)
    return EventSourceResponse(
        live.contact_messages(broker, row.contact_id, render, settings.stream_ping_seconds),
        ping=0,
        send_timeout=settings.stream_send_timeout_seconds,
        headers={"Cache-Control": "no-store"},
    )


def _render(
    database: Database, row: WebchatSession, settings: Settings
) -> Callable[[str], Awaitable[bytes | None]]:
    # Each new message is read as the visitor may see it, in a short session of its own (an
    # idle stream holds no database connection).
    async def render(message_id: str) -> bytes | None:
        async with database.reader() as session:
            found = await service.message(session, row, message_id, settings)
        if found is None:
            return None
        data = json.dumps(found.model_dump(mode="json"), ensure_ascii=False)
        return f"id: {found.id}\nevent: message.created\ndata: {data}\n\n".encode()

    return render
