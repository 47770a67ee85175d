"""REST routes for conversations and their messages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rolodex.auth.deps import CurrentPrincipal
from rolodex.conversations import service
from rolodex.conversations.schemas import (
    ConversationDetail,
    ConversationUpdate,
    LabelCreate,
    LabelRead,
    MessageCreate,
    MessageRead,
)
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.schemas import STALE_RESPONSES, Cursor, IfMatchHeader, Limit, Page, set_etag

router = APIRouter(prefix="/api/v1", tags=["conversations"], route_class=TransactionalRoute)


@router.get("/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: str, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ConversationDetail:
    """One conversation with its status and assignment events; ETag: its version."""
    read = await service.read_conversation(session, principal, conversation_id)
    set_etag(response, read.version)
    return read


@router.patch("/conversations/{conversation_id}", responses=STALE_RESPONSES)
async def update_conversation(
    conversation_id: str,
    data: ConversationUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatchHeader,
) -> ConversationDetail:
    """Change status (new|pending|resolved, with optional reason and comment), assignee, team.

    With If-Match (the ETag read), only if no one changed status, assignee or team since.
    """
    read = await service.update_conversation(
        session, principal, conversation_id, data, if_match=if_match
    )
    set_etag(response, read.version)
    return read


@router.post("/conversations/{conversation_id}/read", status_code=204)
async def mark_read(conversation_id: str, session: SessionDep, principal: CurrentPrincipal) -> None:
    """Mark the conversation read now for the calling user (its unread mark goes)."""
    await service.mark_read(session, principal, conversation_id)


@router.get("/conversations/{conversation_id}/messages")
async def list_messages(
    conversation_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[MessageRead]:
    """A conversation's messages, oldest first, with attachment metadata."""
    items, next_cursor = await service.list_messages(
        session, principal, conversation_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/conversations/{conversation_id}/messages", status_code=201, responses=STALE_RESPONSES
)
async def reply(
    conversation_id: str,
    data: MessageCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatchHeader,
) -> MessageRead:
    """Reply to the contact (text and/or base64 files): an outbound message by the caller; the
    conversation becomes pending; on a connected channel it is queued for delivery. With
    If-Match (the conversation's ETag), only if its status, assignee and team are unchanged."""
    settings = request.app.state.settings
    return await service.reply(
        session,
        principal,
        conversation_id,
        data,
        data_dir=settings.data_dir,
        max_attachment_bytes=settings.max_attachment_bytes,
        if_match=if_match,
    )


@router.get("/labels")
async def list_labels(session: SessionDep, principal: CurrentPrincipal) -> Page[LabelRead]:
    """The workspace's topics and tags (bots apply them with applyTopics and applyTags)."""
    return Page(items=await service.list_labels(session, principal), next_cursor=None)


@router.post("/labels", status_code=201)
async def create_label(
    data: LabelCreate, session: SessionDep, principal: CurrentPrincipal
) -> LabelRead:
    """Add a topic or tag (admins); 409 label_exists when the name exists in any case."""
    return await service.create_label(session, principal, data)


@router.delete("/labels/{label_id}", status_code=204)
async def delete_label(label_id: str, session: SessionDep, principal: CurrentPrincipal) -> None:
    """Remove a topic or tag, from every conversation too (admins)."""
    await service.delete_label(session, principal, label_id)
