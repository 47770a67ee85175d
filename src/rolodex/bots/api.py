"""REST routes of bots (admins, Enterprise plan; SPEC R13.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from rolodex.auth.deps import CurrentPrincipal
from rolodex.bots import service
from rolodex.bots.schemas import (
    Actions,
    ActionsResult,
    BotCreate,
    BotCredentials,
    BotDirectoryItem,
    BotLogRead,
    BotRead,
    BotUpdate,
    Delegate,
)
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import ConversationDetail
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.errors import PayloadTooLarge
from rolodex.i18n import _
from rolodex.schemas import STALE_RESPONSES, Cursor, IfMatchHeader, Limit, Page, set_etag

router = APIRouter(prefix="/api/v1/bots", route_class=TransactionalRoute, tags=["bots"])
# The conversation side: agents hand conversations to bots; bots act on those they hold.
conversation_router = APIRouter(route_class=TransactionalRoute, tags=["bots"])


def _allow_private(request: Request) -> bool:
    return bool(request.app.state.settings.allow_private_webhook_targets)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_bot(
    request: Request, data: BotCreate, session: SessionDep, principal: CurrentPrincipal
) -> BotRead:
    """Register a bot: where its events go, when it holds conversations, how it hands over."""
    return await service.create_bot(session, principal, data, allow_private=_allow_private(request))


@router.get("")
async def list_bots(
    session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> Page[BotRead]:
    """The workspace's bots, oldest first."""
    items, next_cursor = await service.list_bots(session, principal, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/directory")
async def bot_directory(session: SessionDep, principal: CurrentPrincipal) -> Page[BotDirectoryItem]:
    """The bots an agent can hand a conversation to (any user; empty without the plan)."""
    return Page(items=await service.directory(session, principal), next_cursor=None)


@router.get("/{bot_id}")
async def get_bot(bot_id: str, session: SessionDep, principal: CurrentPrincipal) -> BotRead:
    """One bot, with its signing secret."""
    return service.read(await service.access_bot_by_id(session, principal, bot_id))


@router.patch("/{bot_id}")
async def update_bot(
    request: Request,
    bot_id: str,
    data: BotUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> BotRead:
    """Change a bot's settings."""
    return await service.update_bot(
        session, principal, bot_id, data, allow_private=_allow_private(request)
    )


@router.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bot(bot_id: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Remove a bot; its client credentials stop working."""
    await service.delete_bot(session, principal, bot_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{bot_id}/secret")
async def rotate_bot_secret(
    bot_id: str, session: SessionDep, principal: CurrentPrincipal
) -> BotRead:
    """A new signing secret for the bot's events."""
    return await service.rotate_secret(session, principal, bot_id)


@router.post("/{bot_id}/credentials", status_code=status.HTTP_201_CREATED)
async def create_bot_credentials(
    bot_id: str, session: SessionDep, principal: CurrentPrincipal
) -> BotCredentials:
    """Client credentials for the bot's REST calls (the secret is shown once)."""
    return await service.create_credentials(session, principal, bot_id)


@router.get("/{bot_id}/log")
async def bot_log(
    bot_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[BotLogRead]:
    """The bot's newest events and actions with their outcomes, newest first (admins)."""
    items = await service.log(session, principal, bot_id, limit)
    return Page(items=items, next_cursor=None)


@conversation_router.post(
    "/api/v1/conversations/{conversation_id}/delegate", responses=STALE_RESPONSES
)
async def delegate(
    conversation_id: str,
    data: Delegate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatchHeader,
) -> ConversationDetail:
    """Hand the conversation to a bot: it holds it (no assignee meanwhile) and gets
    CONVERSATION_DELEGATED; assigning it to someone takes it back. With If-Match, only if
    the conversation is unchanged."""
    await service.delegate(session, principal, conversation_id, data.bot_id, if_match=if_match)
    read = await conversations.read_conversation(session, principal, conversation_id)
    set_etag(response, read.version)
    return read


ContentType = Annotated[str | None, Header()]


async def _act(
    request: Request,
    conversation_id: str,
    actions: Actions,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ActionsResult:
    data_dir = request.app.state.settings.data_dir
    return await service.act(session, principal, conversation_id, actions, data_dir=data_dir)


async def _upload(
    request: Request,
    conversation_id: str,
    filename: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    content_type: ContentType = None,
) -> Response:
    # Read with a cap: a body at the limit is refused before it is all in memory.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size >= service.UPLOAD_MAX_BYTES:
            raise PayloadTooLarge(
                _("Attachments must be under 10 MB."), code="attachment_too_large"
            )
        chunks.append(chunk)
    await service.upload(
        session,
        principal,
        conversation_id,
        filename,
        (content_type or "application/octet-stream").split(";")[0].strip()[:200],
        b"".join(chunks),
        data_dir=request.app.state.settings.data_dir,
    )
    return Response(status_code=status.HTTP_200_OK)


# The current paths and the former ones older bots use: the same handlers, the same tokens.
for prefix in ("/inbox/v1/virtual-agent", "/virtual-agent"):
    conversation_router.add_api_route(
        f"{prefix}/conversations/{{conversation_id}}",
        _act,
        methods=["POST"],
        summary="A bot's actions on a conversation it holds",
        description=(
            "The same body as the bot's answer to an event: sendMessage(s), "
            "setContactAttributes, applyConversationNotes, applyTopics, applyTags, complete. "
            "404 when the token's bot does not hold the conversation."
        ),
    )
    conversation_router.add_api_route(
        f"{prefix}/conversations/{{conversation_id}}/attachments/{{filename}}",
        _upload,
        methods=["PUT"],
        summary="Upload a file a bot then sends by its filename",
        description="Raw bytes, under 10 MB; filename of letters, digits, '.', '_' and '-'.",
    )
