"""REST routes of bots (admins, Enterprise plan; SPEC R13.1)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from rolodex.auth.deps import CurrentPrincipal
from rolodex.bots import service
from rolodex.bots.schemas import BotCreate, BotCredentials, BotRead, BotUpdate
from rolodex.db import SessionDep, TransactionalRoute
from rolodex.schemas import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1/bots", route_class=TransactionalRoute, tags=["bots"])


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
