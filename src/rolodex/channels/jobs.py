"""The channels domain's jobs: delivering replies, fetching files and contacts' profiles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.catalogue import Medium
from rolodex.channels import connections, delivery, inbound, media, platform, repository
from rolodex.channels.connectors import base
from rolodex.contacts import service as contacts
from rolodex.jobs.registry import JobContext, job
from rolodex.kit.clock import utcnow

# Imported for their @job registrations.
__all__ = ["delivery", "fetch_profile", "media"]


@job("channels.fetch_profile")
async def fetch_profile(ctx: JobContext) -> None:
    """Fetch a contact's profile from the platform (after a first message, at most daily)."""
    ws = ctx.workspace_id or ""
    channel_id, contact_id = str(ctx.payload["channel_id"]), str(ctx.payload["contact_id"])
    async with ctx.db.transaction() as session:
        target = await _target(session, ws, channel_id)
        user_id = await contacts.platform_user_id(session, ws, contact_id)
        channel = await repository.get(session, ws, channel_id)
        if target is None or user_id is None or channel is None or channel.provider is None:
            return
        connector, connection = connections.load(channel, ctx.settings)
    try:
        async with platform.client(ctx.settings) as http:
            profile = await connector.fetch_profile(http, connection, user_id)
    except base.PlatformError as exc:
        if exc.retryable and not ctx.last_attempt:
            raise
        return  # the platform will not say (a blocked or deleted user): nothing to show
    sent = inbound.sender_values(target.medium, user_id, profile.attributes)
    values, _ignored = attributes.check_sender_attributes(target.medium, sent, target.region)
    async with ctx.db.transaction() as session:
        await inbound.refresh_values(session, target, user_id, values, utcnow())


async def _target(session: AsyncSession, ws: str, channel_id: str) -> inbound.Target | None:
    found = await repository.get_with_region(session, ws, channel_id)
    if found is None or found[0].provider is None:
        return None
    channel, region = found
    return inbound.Target(ws, channel.id, Medium(channel.medium), region)
