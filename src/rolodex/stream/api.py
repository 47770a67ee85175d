"""GET /api/v1/stream: the caller's workspace's changes as server-sent events (R12.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse

from rolodex.auth.deps import CurrentPrincipal
from rolodex.db import TransactionalRoute
from rolodex.stream.broker import Broker

router = APIRouter(prefix="/api/v1", route_class=TransactionalRoute, tags=["stream"])

PROCESS_HEADER = "X-Rolodex-Process"


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream."}},
)
async def stream(
    request: Request,
    principal: CurrentPrincipal,
    last_event_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Resume after this event (for clients that cannot "
            "send the Last-Event-ID header).",
        ),
    ] = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=64, include_in_schema=False)
    ] = None,
) -> EventSourceResponse:
    """Server-sent events of the caller's workspace: conversations, messages and contacts."""
    broker: Broker = request.app.state.stream
    settings = request.app.state.settings
    # The request's session closes when this returns: the stream holds no connection.
    return EventSourceResponse(
        broker.events(
            principal,
            last_event_id_header or last_event_id,
            ping_seconds=settings.stream_ping_seconds,
        ),
        ping=0,  # the generator sends the heartbeat (no extra task per client)
        send_timeout=settings.stream_send_timeout_seconds,
        headers={PROCESS_HEADER: broker.process_id, "Cache-Control": "no-store"},
    )
