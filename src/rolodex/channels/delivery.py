"""Delivering replies through a connected channel's platform (R11.4).

An agent's (or bot's) reply on a connected channel is stored `queued` in the reply's own
transaction (the MessageSent subscriber), and a job sends it. The platform's id is kept;
statuses from its webhooks move the message on (intake). 429, 5xx and unreachable are
retried with backoff; any other refusal fails at once with the platform's code and title.
A message that already has the platform's id is never sent again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import files
from rolodex.auth.principals import Principal
from rolodex.channels import connections, platform, repository
from rolodex.channels.connectors import base, connector_for
from rolodex.config import Settings
from rolodex.contacts import service as contacts
from rolodex.conversations import service as conversations
from rolodex.conversations.events import MessageSent
from rolodex.errors import Conflict, InvalidInput, NotFound
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.jobs.registry import JobContext, job
from rolodex.kit.secrets import keyed_digest, same

DELIVER = "channels.deliver"
RETRY_UNITS = (1, 2, 4, 8, 16, 32)
FILE_LINK_SECONDS = 3600


async def on_message_sent(session: AsyncSession, event: MessageSent) -> None:
    """Queue the delivery of a reply written on a connected channel (in its transaction)."""
    channel = await repository.get(session, event.workspace_id, event.channel_id)
    if channel is None or channel.provider is None:
        return
    await _check_length(session, event, connector_for(channel.provider).max_text_length)
    await conversations.set_delivery(session, event.workspace_id, event.message_id, "queued")
    await _enqueue(session, event.workspace_id, event.message_id, event.contact_id)


async def _check_length(session: AsyncSession, event: MessageSent, limit: int | None) -> None:
    # Refused in the reply's transaction (nothing stored): the platform would refuse it too.
    if limit is None:
        return
    found = await conversations.outgoing(session, event.workspace_id, event.message_id)
    if found is not None and len(found.text) > limit:
        raise InvalidInput.for_field(
            "text",
            _("A message on this channel can have at most %(limit)s characters.")
            % {"limit": limit},
            code="text_too_long",
        )


async def _enqueue(
    session: AsyncSession, workspace_id: str, message_id: str, contact_id: str
) -> None:
    await jobs.enqueue(
        session,
        DELIVER,
        {"message_id": message_id},
        workspace_id=workspace_id,
        contact_id=contact_id,
        ref=message_id,
    )


async def retry(
    session: AsyncSession, principal: Principal, conversation_id: str, message_id: str
) -> None:
    """Send a failed reply again (any user who sees the conversation); 409 unless it failed."""
    conversation = await conversations.access_conversation_by_id(
        session, principal, conversation_id
    )
    found = await conversations.outgoing(session, principal.workspace_id, message_id)
    if found is None or found.conversation_id != conversation.id:
        raise NotFound(_("Message not found."))
    if found.delivery_status != "failed":
        raise Conflict(_("Only a reply that failed can be sent again."), code="not_failed")
    await conversations.set_delivery(session, principal.workspace_id, message_id, "queued")
    await _enqueue(session, principal.workspace_id, message_id, found.contact_id)


def _tuning(settings: Settings) -> tuple[tuple[timedelta, ...], timedelta]:
    unit = settings.delivery_retry_unit_seconds
    lease = timedelta(seconds=max(settings.platform_timeout_seconds * 4, 60))
    return tuple(timedelta(seconds=n * unit) for n in RETRY_UNITS), lease


@job(DELIVER, retry_delays=tuple(timedelta(minutes=n) for n in RETRY_UNITS), tuning=_tuning)
async def deliver(ctx: JobContext) -> None:
    """Send one reply through its channel's connector and record what the platform said."""
    ws, message_id = ctx.workspace_id or "", str(ctx.payload["message_id"])
    async with ctx.db.transaction() as session:
        found = await conversations.outgoing(session, ws, message_id)
        if found is None or found.delivery_status != "queued" or found.provider_message_id:
            return  # deleted, or already sent by an earlier run: never twice
        channel = await repository.get(session, ws, found.channel_id)
        recipient = await contacts.platform_user_id(session, ws, found.contact_id)
        if channel is None or recipient is None:
            return
        connector, connection = connections.load(channel, ctx.settings)
        # Where the platform posts this reply's statuses (Twilio's StatusCallback).
        connection["webhook_url"] = connections.webhook_url(channel, ctx.settings)
        reply = base.ReplyContext(message_id)
        if connector.threaded:
            subject, ids = await conversations.thread_context(session, ws, found.conversation_id)
            reply = base.ReplyContext(message_id, subject, tuple(ids))
    files = await _files(ctx.settings, found)
    try:
        async with platform.client(ctx.settings) as http:
            sent = await connector.send(http, connection, recipient, found.text, files, reply)
    except base.PlatformError as exc:
        if exc.retryable and not ctx.last_attempt:
            raise
        async with ctx.db.transaction() as session:
            await conversations.set_delivery(
                session, ws, message_id, "failed", error=(exc.code, exc.title)
            )
        return
    async with ctx.db.transaction() as session:
        await conversations.set_delivery(
            session, ws, message_id, "sent", provider_message_id=sent.provider_message_id
        )


async def _files(settings: Settings, found: conversations.Outgoing) -> list[base.OutboundFile]:
    out = []
    for file in found.attachments:
        if file.status != "stored":
            continue
        path = files.path_for(settings.data_dir, file.sha256)
        data = await asyncio.to_thread(path.read_bytes)
        out.append(
            base.OutboundFile(file.filename, file.content_type, data, file_link(settings, file.id))
        )
    return out


def file_link(settings: Settings, attachment_id: str) -> str:
    """A public link to one attachment, valid for an hour (platforms that take files by URL)."""
    expires = int(time.time()) + FILE_LINK_SECONDS
    signature = _file_signature(settings, attachment_id, expires)
    base_url = settings.public_url.rstrip("/")
    return f"{base_url}/public/v1/files/{attachment_id}?expires={expires}&signature={signature}"


def _file_signature(settings: Settings, attachment_id: str, expires: int) -> str:
    return keyed_digest(settings.resolved_secret_key(), f"file:{attachment_id}:{expires}")


@dataclass(frozen=True)
class PublicFile:
    """A stored file a signed link names."""

    path: Path
    content_type: str
    filename: str


async def public_file(
    session: AsyncSession, settings: Settings, attachment_id: str, expires: int, signature: str
) -> PublicFile:
    """The file of a valid, unexpired signed link; 404 for anything else."""
    valid = expires >= time.time() and same(
        _file_signature(settings, attachment_id, expires), signature
    )
    # The signature names the attachment: it stands in for the workspace scope here.
    found = await conversations.attachment(session, None, attachment_id) if valid else None
    if found is None or found.status != "stored":
        raise NotFound(_("File not found."))
    path = files.path_for(settings.data_dir, found.sha256)
    return PublicFile(path, found.content_type, found.filename)
