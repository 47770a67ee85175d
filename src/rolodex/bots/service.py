"""Registering bots (R13.1): admins of Enterprise workspaces; every change is audited.

A bot has a hex secret: its events are signed with it (X-Hootsuite-Signature and
X-Sparkcentral-Signature, HMAC-SHA256 keyed with the hex-decoded secret), and admins see it
to configure the bot. Its REST calls use client credentials (POST /api/v1/bots/{id}/credentials)
exchanged for a token at POST /oauth2/token or the former POST /virtual-agent/oauth2/token.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service as audit
from rolodex.auth import service as auth
from rolodex.auth.principals import Principal, TokenKind
from rolodex.bots import repository
from rolodex.bots.schemas import BotCreate, BotCredentials, BotRead, BotUpdate
from rolodex.channels import service as channels
from rolodex.errors import Conflict, InvalidInput, NotFound, field_error
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit import outbound
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Bot
from rolodex.plans import Feature

MAX_BOTS = 50
SECRET_BYTES = 32


def _require(principal: Principal) -> None:
    principal.require_feature(Feature.BOTS)
    principal.require_admin()


def display_name(name: str) -> str:
    """How agents see a bot: "<Name> VA"."""
    return _("%(name)s VA", name=name)


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
