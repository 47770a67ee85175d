"""Managing channels (admins), with an audit entry for every change.

Deleting a channel only marks it deleted: its conversations, messages and contacts
stay readable in the contacts' history. A channel that has conversations must be
archived first (409 otherwise), so that a live channel is never removed by mistake.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium
from rolodex.channels import connections, intake, platform, repository
from rolodex.channels.connectors import connector_for
from rolodex.channels.connectors.base import PlatformError

# The inbound path and signed file links, for the domains that receive on a channel's behalf
# (web chat): this service is the channels domain's one door.
from rolodex.channels.delivery import file_link as file_link
from rolodex.channels.inbound import Replay as Replay
from rolodex.channels.inbound import Target as Target
from rolodex.channels.inbound import refresh_values as refresh_values
from rolodex.channels.inbound import store as store
from rolodex.channels.intake import channel_region as channel_region
from rolodex.channels.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    ConnectionTestResult,
    WebhookEventRead,
)
from rolodex.config import Settings
from rolodex.conversations import service as conversations
from rolodex.errors import Conflict, NotFound, field_error
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit.clock import utcnow
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.models import Channel, WebhookEvent


def _snapshot(channel: Channel) -> dict[str, Any]:
    # Secrets never reach the audit log: only whether some are set.
    return {
        "medium": channel.medium,
        "name": channel.name,
        "enabled": channel.enabled,
        "archived": channel.archived,
        "connection": connections.describe(channel),
        "secrets": "set" if channel.secrets else None,
    }


def read(channel: Channel, settings: Settings) -> ChannelRead:
    """A channel as the API shows it: its connection without secrets, its webhook URL."""
    return ChannelRead(
        id=channel.id,
        medium=Medium(channel.medium),
        name=channel.name,
        enabled=channel.enabled,
        archived=channel.archived,
        created_at=channel.created_at,
        connection=connections.describe(channel),
        webhook_url=connections.webhook_url(channel, settings),
    )


async def access_channel_by_id(
    session: AsyncSession, principal: Principal, channel_id: str
) -> Channel:
    """A channel of the caller's workspace; 404 for missing, deleted and foreign alike."""
    channel = await repository.get(session, principal.workspace_id, channel_id)
    if channel is None:
        raise NotFound(_("Channel not found."))
    return channel


async def create_channel(
    session: AsyncSession, principal: Principal, data: ChannelCreate, settings: Settings
) -> Channel:
    """An admin adds a channel (connected when `connection` is given); its medium's platform
    attribute definitions are created."""
    principal.require_admin()
    channel = Channel(
        id=new_id("ch"),
        workspace_id=principal.workspace_id,
        medium=data.medium.value,
        name=data.name,
    )
    if data.connection is not None:
        connections.apply(channel, data.connection, settings)
        await _address_free(session, channel)
    session.add(channel)
    await session.flush()
    await attributes.ensure_definitions(session, principal.workspace_id, data.medium)
    await audit.record(
        session,
        principal,
        "channel.created",
        target_type="channel",
        target_id=channel.id,
        after=_snapshot(channel),
    )
    return channel


async def _address_free(session: AsyncSession, channel: Channel) -> None:
    # One channel per email address across every workspace: the listener's mail for an
    # address must never reach a second workspace.
    address = (channel.connection or {}).get("address")
    if channel.provider != "smtp" or not address:
        return
    for other in await repository.connected_with(session, "smtp"):
        if other.id != channel.id and (other.connection or {}).get("address") == address:
            message = _("Another channel already receives mail for this address.")
            raise Conflict(
                message,
                code="address_taken",
                errors=[field_error("connection.address", message, "address_taken")],
            )


async def list_channels(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[Channel], str | None]:
    """The workspace's channels, oldest first (admins)."""
    principal.require_admin()
    stmt = repository.channels_of(principal.workspace_id)
    return await id_page(session, stmt, Channel.id, cursor=cursor, limit=limit)


async def get_channel(session: AsyncSession, principal: Principal, channel_id: str) -> Channel:
    """One channel (admins)."""
    principal.require_admin()
    return await access_channel_by_id(session, principal, channel_id)


async def update_channel(
    session: AsyncSession,
    principal: Principal,
    channel_id: str,
    data: ChannelUpdate,
    settings: Settings,
) -> Channel:
    """An admin renames, disables/enables, archives, connects or disconnects a channel."""
    principal.require_admin()
    channel = await access_channel_by_id(session, principal, channel_id)
    before = _snapshot(channel)
    changes = data.model_dump(exclude_unset=True, exclude_none=True, exclude={"connection"})
    for field, value in changes.items():
        setattr(channel, field, value)
    reconnected = "connection" in data.model_fields_set
    if reconnected:
        connections.apply(channel, data.connection, settings)
        await _address_free(session, channel)
    intake.forget(channel.id)
    after = _snapshot(channel)
    if after != before or reconnected:
        await session.flush()
        await audit.record(
            session,
            principal,
            "channel.updated",
            target_type="channel",
            target_id=channel.id,
            before=before,
            after=after,
        )
    return channel


async def delete_channel(session: AsyncSession, principal: Principal, channel_id: str) -> None:
    """An admin deletes a channel; 409 while it has conversations and is not archived."""
    principal.require_admin()
    channel = await access_channel_by_id(session, principal, channel_id)
    if not channel.archived and await conversations.channel_has_conversations(
        session, principal.workspace_id, channel.id
    ):
        raise Conflict(
            _("This channel has conversations; archive it before deleting it."),
            code="channel_has_conversations",
        )
    channel.deleted_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        principal,
        "channel.deleted",
        target_type="channel",
        target_id=channel.id,
        before=_snapshot(channel),
    )


async def public_channel(session: AsyncSession, channel_id: str, provider: str) -> Channel:
    """A live, enabled channel connected with this provider, by id alone (a public entry
    point such as the web chat visitor API); 404 for anything else."""
    channel = await repository.get_any(session, channel_id)
    if channel is None or channel.provider != provider or not channel.enabled or channel.archived:
        raise NotFound(_("Channel not found."))
    return channel


async def channel_medium(session: AsyncSession, principal: Principal, channel_id: str) -> str:
    """A channel's medium ("" when it is gone)."""
    channel = await repository.get(session, principal.workspace_id, channel_id)
    return channel.medium if channel is not None else ""


async def live_channel_ids(session: AsyncSession, workspace_id: str) -> set[str]:
    """The ids of the workspace's channels that are not deleted."""
    rows = await session.execute(repository.channels_of(workspace_id).with_only_columns(Channel.id))
    return {str(i) for i in rows.scalars()}


async def channel_names(session: AsyncSession, principal: Principal) -> dict[str, str]:
    """The names of the workspace's channels by id (any user: pages show them)."""
    return await repository.names(session, principal.workspace_id)


async def rotate_identity_secret(
    session: AsyncSession, principal: Principal, channel_id: str
) -> Channel:
    """A new identity secret for a web chat channel (admins); identifiers signed with the old
    one are refused from now on."""
    principal.require_admin()
    channel = await access_channel_by_id(session, principal, channel_id)
    connector = connector_for(channel.provider) if channel.provider else None
    if connector is None or "identity_secret" not in connector.generated:
        raise Conflict(
            _("Only a connected web chat channel has an identity secret."),
            code="no_identity_secret",
        )
    make = connector.generated["identity_secret"]
    channel.connection = {**(channel.connection or {}), "identity_secret": make()}
    await session.flush()
    await audit.record(
        session,
        principal,
        "channel.identity_secret_rotated",
        target_type="channel",
        target_id=channel.id,
    )
    return channel


async def test_connection(
    session: AsyncSession, principal: Principal, channel_id: str, settings: Settings
) -> ConnectionTestResult:
    """Call the platform with the stored credentials (admins): proves the token works."""
    principal.require_admin()
    channel = await access_channel_by_id(session, principal, channel_id)
    connector, connection = connections.load(channel, settings)
    # No transaction is held across the platform call: the route's session only read.
    await session.commit()
    try:
        async with platform.client(settings) as http:
            account = await connector.test(http, connection)
    except PlatformError as exc:
        return ConnectionTestResult(ok=False, error={"code": exc.code, "title": exc.title})
    return ConnectionTestResult(ok=True, account=account)


async def list_webhook_events(
    session: AsyncSession,
    principal: Principal,
    channel_id: str,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[WebhookEventRead], str | None]:
    """A channel's stored platform deliveries, newest first (admins), e.g. the failed ones."""
    principal.require_admin()
    channel = await access_channel_by_id(session, principal, channel_id)
    stmt = repository.events_of(principal.workspace_id, channel.id)
    if status is not None:
        stmt = stmt.where(WebhookEvent.status == status)
    rows, next_cursor = await id_page(
        session, stmt, WebhookEvent.id, cursor=cursor, limit=limit, newest_first=True
    )
    return [_event_read(e) for e in rows], next_cursor


def _event_read(event: WebhookEvent) -> WebhookEventRead:
    return WebhookEventRead.model_validate(
        {
            "id": event.id,
            "channel_id": event.channel_id,
            "status": event.status,
            "attempts": event.attempts,
            "error": event.error,
            "outcome": event.outcome,
            "received_at": event.received_at,
            "processed_at": event.processed_at,
            "body": bytes(event.body).decode("utf-8", "replace"),
        }
    )


async def retry_webhook_event(
    session: AsyncSession, principal: Principal, channel_id: str, event_id: str
) -> WebhookEventRead:
    """Process a failed delivery again, after the ones waiting (admins); 409 unless failed."""
    principal.require_admin()
    channel = await access_channel_by_id(session, principal, channel_id)
    stmt = repository.events_of(principal.workspace_id, channel.id).where(
        WebhookEvent.id == event_id
    )
    event = (await session.execute(stmt)).scalar_one_or_none()
    if event is None:
        raise NotFound(_("Delivery not found."))
    if event.status != "failed":
        raise Conflict(_("Only a delivery that failed can be retried."), code="not_failed")
    event.status, event.error = "pending", None
    await session.flush()
    jobs.wake_after_commit(session)
    return _event_read(event)
