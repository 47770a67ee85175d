"""Registering bots (R13.1): admins of Enterprise workspaces; every change is audited.

A bot has a hex secret: its events are signed with it (X-Hootsuite-Signature and
X-Sparkcentral-Signature, HMAC-SHA256 keyed with the hex-decoded secret), and admins see it
to configure the bot. Its REST calls use client credentials (POST /api/v1/bots/{id}/credentials)
exchanged for a token at POST /oauth2/token or the former POST /virtual-agent/oauth2/token.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import files
from rolodex.audit import service as audit
from rolodex.auth import service as auth
from rolodex.auth.principals import Principal, TokenKind
from rolodex.bots import contract, repository
from rolodex.bots.schemas import (
    Actions,
    ActionsResult,
    BotCreate,
    BotCredentials,
    BotDirectoryItem,
    BotLogRead,
    BotRead,
    BotUpdate,
)
from rolodex.channels import service as channels
from rolodex.conversations import service as conversations
from rolodex.conversations.events import MessageReceived
from rolodex.conversations.schemas import Status
from rolodex.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, field_error
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit import outbound
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Bot
from rolodex.plans import Feature, Plan, has_feature
from rolodex.schemas import IfMatch
from rolodex.workspaces import service as workspaces

MAX_BOTS = 50
SECRET_BYTES = 32


def _require(principal: Principal) -> None:
    principal.require_feature(Feature.BOTS)
    principal.require_admin()


display_name = contract.display_name


def read(row: Bot) -> BotRead:
    """A bot as the API shows it."""
    return BotRead.model_validate(
        {
            **{name: getattr(row, name) for name in BotRead.model_fields if hasattr(row, name)},
            "display_name": display_name(row.name),
        }
    )


def _snapshot(row: Bot) -> dict[str, Any]:
    # What the audit log keeps of a bot: never its secret.
    return {
        "name": row.name,
        "webhook_url": row.webhook_url,
        "activation": row.activation,
        "channel_ids": list(row.channel_ids),
        "handoff": row.handoff,
        "response_timeout_seconds": row.response_timeout_seconds,
        "on_error": row.on_error,
    }


def _checked_url(url: str, allow_private: bool) -> str:
    try:
        return outbound.check_url(url, allow_private=allow_private)
    except outbound.UnsafeTarget as exc:
        message = jobs.unsafe_target_message(exc)
        raise InvalidInput(
            message, errors=[field_error("webhook_url", message, "unsafe_url")], code="invalid_url"
        ) from exc


async def _checked_channels(
    session: AsyncSession, principal: Principal, channel_ids: list[str]
) -> list[str]:
    known = await channels.live_channel_ids(session, principal.workspace_id)
    for index, channel_id in enumerate(channel_ids):
        if channel_id not in known:
            raise InvalidInput.for_field(
                f"channel_ids.{index}", _("There is no channel with this id in the workspace.")
            )
    return list(dict.fromkeys(channel_ids))


async def access_bot_by_id(session: AsyncSession, principal: Principal, bot_id: str) -> Bot:
    """A bot of the caller's workspace (admins); another workspace's is a 404 too."""
    _require(principal)
    row = await repository.get(session, principal.workspace_id, bot_id)
    if row is None:
        raise NotFound(_("Bot not found."))
    return row


async def create_bot(
    session: AsyncSession, principal: Principal, data: BotCreate, *, allow_private: bool
) -> BotRead:
    """Register a bot with a fresh signing secret."""
    _require(principal)
    if await repository.count(session, principal.workspace_id) >= MAX_BOTS:
        raise Conflict(
            _("A workspace can have at most %(max)s bots.", max=MAX_BOTS), code="too_many_bots"
        )
    await workspaces.config_changed(session, principal.workspace_id)  # inception bots
    now = utcnow()
    row = Bot(
        id=new_id("bot"),
        workspace_id=principal.workspace_id,
        name=data.name,
        webhook_url=_checked_url(data.webhook_url, allow_private),
        activation=data.activation.value,
        channel_ids=await _checked_channels(session, principal, data.channel_ids),
        handoff=data.handoff.value,
        response_timeout_seconds=data.response_timeout_seconds,
        on_error=data.on_error.value,
        secret=secrets.token_hex(SECRET_BYTES),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session, principal, "bot.created", target_type="bot", target_id=row.id, after=_snapshot(row)
    )
    return read(row)


async def list_bots(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[BotRead], str | None]:
    """The workspace's bots, oldest first (admins)."""
    _require(principal)
    rows, next_cursor = await id_page(
        session, repository.bots_of(principal.workspace_id), Bot.id, cursor=cursor, limit=limit
    )
    return [read(r) for r in rows], next_cursor


async def update_bot(
    session: AsyncSession,
    principal: Principal,
    bot_id: str,
    data: BotUpdate,
    *,
    allow_private: bool,
) -> BotRead:
    """Change a bot's settings."""
    row = await access_bot_by_id(session, principal, bot_id)
    before = _snapshot(row)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "webhook_url" in changes:
        changes["webhook_url"] = _checked_url(changes["webhook_url"], allow_private)
    if "channel_ids" in changes:
        changes["channel_ids"] = await _checked_channels(session, principal, changes["channel_ids"])
    for name, value in changes.items():
        setattr(row, name, value.value if hasattr(value, "value") else value)
    if _snapshot(row) != before:
        await workspaces.config_changed(session, principal.workspace_id)  # inception bots
        row.updated_at = utcnow()
        await session.flush()
        await audit.record(
            session,
            principal,
            "bot.updated",
            target_type="bot",
            target_id=row.id,
            before=before,
            after=_snapshot(row),
        )
    return read(row)


async def delete_bot(session: AsyncSession, principal: Principal, bot_id: str) -> None:
    """Remove a bot; its client credentials are revoked."""
    row = await access_bot_by_id(session, principal, bot_id)
    await workspaces.config_changed(session, principal.workspace_id)  # inception bots
    # Its conversations go to the new queue first: nobody would answer them otherwise.
    for conversation_id in await conversations.held_by(session, principal.workspace_id, row.id):
        conversation = await conversations.locked(session, principal.workspace_id, conversation_id)
        if conversation is not None:
            await contract.hand_over(
                session, row, principal.plan, conversation, reason="bot_deleted"
            )
    for client in await auth.list_oauth_clients(session, principal, TokenKind.BOT):
        if client.subject_id == row.id and client.revoked_at is None:
            await auth.revoke_oauth_client(session, principal, client.id, TokenKind.BOT)
    before = _snapshot(row)
    await session.delete(row)
    await session.flush()
    await audit.record(
        session, principal, "bot.deleted", target_type="bot", target_id=bot_id, before=before
    )


async def rotate_secret(session: AsyncSession, principal: Principal, bot_id: str) -> BotRead:
    """A new signing secret; events are signed with it from now on."""
    row = await access_bot_by_id(session, principal, bot_id)
    row.secret = secrets.token_hex(SECRET_BYTES)
    row.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session, principal, "bot.secret_rotated", target_type="bot", target_id=row.id
    )
    return read(row)


async def create_credentials(
    session: AsyncSession, principal: Principal, bot_id: str
) -> BotCredentials:
    """Client credentials for the bot's REST calls; the secret is shown this once."""
    row = await access_bot_by_id(session, principal, bot_id)
    client, secret = await auth.create_oauth_client(
        session, principal, kind=TokenKind.BOT, name=row.name, subject_id=row.id
    )
    return BotCredentials(client_id=client.id, client_secret=secret)


# --- holding conversations and the contract (R13.2) ------------------------------------
UPLOAD_MAX_BYTES = 10 * 1000 * 1000  # "under 10 MB"
UPLOAD_NAME = re.compile(r"[A-Za-z0-9._-]{1,255}")


async def directory(session: AsyncSession, principal: Principal) -> list[BotDirectoryItem]:
    """The bots agents can hand a conversation to (none when the plan has no bots)."""
    if not has_feature(principal.plan, Feature.BOTS):
        return []
    rows = (await session.execute(repository.bots_of(principal.workspace_id))).scalars()
    return [
        BotDirectoryItem(id=r.id, display_name=display_name(r.name), activation=r.activation)
        for r in rows
    ]


async def log(
    session: AsyncSession, principal: Principal, bot_id: str, limit: int = 50
) -> list[BotLogRead]:
    """The bot's newest events and actions, newest first (admins)."""
    row = await access_bot_by_id(session, principal, bot_id)
    lines = await repository.log_of(session, principal.workspace_id, row.id, limit)
    return [BotLogRead.model_validate(line) for line in lines]


async def _inception_bots(
    session: AsyncSession, workspace_id: str
) -> tuple[tuple[str, frozenset[str]], ...]:
    # Per configuration version (every bot change bumps it): new conversations read none.
    plans = [p.value for p in Plan if has_feature(p, Feature.BOTS)]
    found = await repository.inception_bots(session, workspace_id, plans)
    return tuple((bot.id, frozenset(bot.channel_ids)) for bot in found)


async def message_received(session: AsyncSession, event: MessageReceived) -> None:
    """A contact wrote: a new conversation goes to an inception bot of its channel (R13.2),
    which is told it started; a bot holding the conversation is told of the message."""
    ws = event.workspace_id
    if event.first:
        for bot_id, channel_ids in await workspaces.cached_config(session, ws, _inception_bots):
            if event.channel_id in channel_ids:
                bot = await repository.get(session, ws, bot_id)
                conversation = await conversations.locked(session, ws, event.conversation_id)
                if bot is None or conversation is None:
                    return
                await conversations.hold(
                    session, conversation, bot.id, actor_kind="bot", actor_id=bot.id
                )
                # The message that opened it follows once the bot took the start (in order).
                await contract.send_event(
                    session,
                    bot,
                    event.conversation_id,
                    event.contact_id,
                    contract.STARTED,
                    then_message_id=event.message_id,
                )
                return
        return
    # Read with the conversation's upsert, under its row lock: no read of its own.
    holder = await repository.get(session, ws, event.bot_id) if event.bot_id else None
    if holder is not None:
        await contract.send_event(
            session,
            holder,
            event.conversation_id,
            event.contact_id,
            contract.INBOUND,
            message_id=event.message_id,
        )


async def delegate(
    session: AsyncSession,
    principal: Principal,
    conversation_id: str,
    bot_id: str,
    *,
    if_match: IfMatch = None,
) -> None:
    """An agent hands a conversation to a bot: it holds it and is told (R13.2). With
    `if_match`, only if the conversation's version is one of them (else 412 stale)."""
    principal.require_user()
    principal.require_feature(Feature.BOTS)
    found = await conversations.access_conversation_by_id(
        session, principal, conversation_id, for_update=True
    )
    await conversations.check_version(session, principal, found, if_match)
    bot = await repository.get(session, principal.workspace_id, bot_id)
    if bot is None:
        raise InvalidInput.for_field(
            "bot_id", _("There is no bot with this id in the workspace."), code="bot_not_found"
        )
    if found.status == Status.RESOLVED:
        raise Conflict(
            _("This conversation is resolved: reopen it before handing it to a bot."),
            code="conversation_resolved",
        )
    if found.bot_id == bot.id:
        return
    await conversations.hold(
        session, found, bot.id, actor_kind=principal.actor_kind, actor_id=principal.actor_id
    )
    await contract.send_event(session, bot, found.id, found.contact_id, contract.DELEGATED)


async def acting_bot(session: AsyncSession, principal: Principal) -> Bot:
    """The bot a REST call's token speaks for (404 for any other token: it holds nothing)."""
    principal.require_feature(Feature.BOTS)
    bot_id = await auth.token_subject(session, principal)
    bot = await repository.get(session, principal.workspace_id, bot_id) if bot_id else None
    if bot is None:
        raise NotFound(_("This bot does not hold this conversation."), code="not_held")
    return bot


async def act(
    session: AsyncSession,
    principal: Principal,
    conversation_id: str,
    actions: Actions,
    *,
    data_dir: Path,
) -> ActionsResult:
    """A bot's actions sent over REST: applied like its synchronous answer."""
    bot = await acting_bot(session, principal)
    return await contract.apply(
        session, bot, principal.plan, conversation_id, actions, data_dir=data_dir
    )


async def upload(
    session: AsyncSession,
    principal: Principal,
    conversation_id: str,
    filename: str,
    content_type: str,
    body: bytes,
    *,
    data_dir: Path,
) -> None:
    """Keep a file for the bot to send in this conversation by its filename."""
    if not UPLOAD_NAME.fullmatch(filename):
        raise InvalidInput.for_field(
            "filename", _("Use only letters, digits, dots, dashes and underscores in a filename.")
        )
    if len(body) >= UPLOAD_MAX_BYTES:
        raise PayloadTooLarge(_("Attachments must be under 10 MB."), code="attachment_too_large")
    if not body:
        raise InvalidInput.for_field("body", _("The file is empty."))
    bot = await acting_bot(session, principal)
    if await conversations.holder(session, principal.workspace_id, conversation_id) != bot.id:
        raise NotFound(_("This bot does not hold this conversation."), code="not_held")
    decoded = files.DecodedFile(filename, content_type, body, hashlib.sha256(body).hexdigest())
    await asyncio.to_thread(files.store, data_dir, [decoded])
    await repository.put_upload(
        session,
        {
            "id": new_id("bup"),
            "workspace_id": principal.workspace_id,
            "bot_id": bot.id,
            "conversation_id": conversation_id,
            "filename": filename,
            "content_type": content_type,
            "size": len(body),
            "sha256": decoded.sha256,
            "created_at": utcnow(),
        },
    )
