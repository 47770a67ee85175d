"""Files a platform's message refers to: recorded as pending, fetched by a job, retried.

The message is stored at once; its files follow. A file that cannot be fetched (too large,
a refused content type, the platform down after every retry) leaves the attachment `failed`
with the reason, and an agent may retry it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import files
from rolodex.auth.principals import Principal
from rolodex.channels import connections, platform, repository
from rolodex.channels.connectors import base
from rolodex.config import Settings
from rolodex.conversations import service as conversations
from rolodex.errors import Conflict, NotFound
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.jobs.registry import JobContext, job
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id

# Families of content Rolodex keeps from a platform; anything a browser would run is refused.
_REFUSED = (
    "text/html",
    "application/xhtml",
    "image/svg",
    "application/javascript",
    "text/javascript",
)


OPAQUE = "application/octet-stream"


def accepted_type(content_type: str) -> bool:
    """Whether a downloaded file's content type may be kept."""
    kind = content_type.split(";")[0].strip().lower()
    return bool(kind) and not kind.startswith(_REFUSED)


async def add_pending(
    session: AsyncSession, workspace_id: str, message_id: str, contact_id: str, ref: base.MediaRef
) -> str:
    """Record a platform's file of a new message and enqueue its fetch."""
    attachment_id = new_id("att")
    await conversations.add_attachments(
        session,
        [
            {
                "id": attachment_id,
                "workspace_id": workspace_id,
                "message_id": message_id,
                "filename": ref.filename[:255],
                "content_type": ref.content_type[:200],
                "size": 0,
                "sha256": "",
                "created_at": utcnow(),
                "status": "pending",
                "source": json.dumps({"ref": ref.ref}),
            }
        ],
    )
    await _enqueue(session, workspace_id, attachment_id, contact_id)
    return attachment_id


async def keep_carried(
    session: AsyncSession,
    settings: Settings,
    workspace_id: str,
    message_id: str,
    carried: list[base.Media],
) -> None:
    """Store the files a message carried itself (email), each within the attachment limit."""
    kept, refused = [], []
    for media in carried:
        if len(media.data) > settings.max_attachment_bytes:
            refused.append(media)
            continue
        # A type a browser would run is kept as plain bytes: downloaded, never rendered.
        kind = media.content_type if accepted_type(media.content_type) else OPAQUE
        sha = hashlib.sha256(media.data).hexdigest()
        kept.append(files.DecodedFile(media.filename, kind[:200], media.data, sha))
    if kept:
        await conversations.attach_files(session, workspace_id, message_id, kept, settings.data_dir)
    # Kept as failed rows (name and type, no bytes): the agent sees a file was left out.
    await conversations.add_attachments(
        session,
        [
            {
                "id": new_id("att"),
                "workspace_id": workspace_id,
                "message_id": message_id,
                "filename": media.filename[:255],
                "content_type": media.content_type[:200],
                "size": len(media.data),
                "sha256": "",
                "created_at": utcnow(),
                "status": "failed",
                "error": _("The file is larger than the attachment limit."),
            }
            for media in refused
        ],
    )


async def _enqueue(
    session: AsyncSession, workspace_id: str, attachment_id: str, contact_id: str | None
) -> None:
    await jobs.enqueue(
        session,
        "channels.fetch_media",
        {"attachment_id": attachment_id},
        workspace_id=workspace_id,
        contact_id=contact_id,
        ref=attachment_id,
    )


async def retry(session: AsyncSession, principal: Principal, attachment_id: str) -> None:
    """Fetch a failed file again (any user of the workspace); 409 unless it failed."""
    found = await conversations.attachment(session, principal.workspace_id, attachment_id)
    if found is None:
        raise NotFound(_("Attachment not found."))
    if found.status != "failed":
        raise Conflict(_("Only a file that failed to download can be retried."), code="not_failed")
    found.status, found.error = "pending", None
    await session.flush()
    await _enqueue(session, principal.workspace_id, attachment_id, None)


@job("channels.fetch_media")
async def fetch_media(ctx: JobContext) -> None:
    """Download a platform's file with the channel's credentials and store it."""
    ws, attachment_id = ctx.workspace_id or "", ctx.payload["attachment_id"]
    async with ctx.db.transaction() as session:
        found = await conversations.attachment(session, ws, attachment_id)
        if found is None or found.status != "pending" or not found.source:
            return
        message_channel = await conversations.outgoing(session, ws, found.message_id)
        channel = (
            await repository.get(session, ws, message_channel.channel_id)
            if message_channel
            else None
        )
        if channel is None:
            return
        connector, connection = connections.load(channel, ctx.settings)
        ref = base.MediaRef(json.loads(found.source)["ref"], found.content_type, found.filename)
    try:
        async with platform.client(ctx.settings) as http:
            media = await connector.download(
                http, connection, ref, ctx.settings.max_attachment_bytes
            )
        if not accepted_type(media.content_type):
            raise base.PlatformError(
                "content_type", f"{media.content_type} is not accepted", retryable=False
            )
    except base.PlatformError as exc:
        if exc.retryable and not ctx.last_attempt:
            raise
        async with ctx.db.transaction() as session:
            await conversations.attachment_failed(session, ws, attachment_id, exc.title)
        return
    sha = hashlib.sha256(media.data).hexdigest()
    decoded = files.DecodedFile(ref.filename, media.content_type, media.data, sha)
    await asyncio.to_thread(files.store, ctx.settings.data_dir, [decoded])
    async with ctx.db.transaction() as session:
        await conversations.attachment_fetched(
            session,
            ws,
            attachment_id,
            content_type=media.content_type[:200],
            size=len(media.data),
            sha256=sha,
        )
