"""Receiving a message on a channel: the inbound hot path, in one transaction.

Order of work: everything that can refuse the request (caller, channel, attribute
types, attachment sizes) is checked before the first write. Then, each step one
statement on a unique index, so concurrent requests need no read-then-write:
  1. the contact: INSERT … ON CONFLICT on (workspace, medium, scope, platform user id);
  2. its platform values: one upsert of the changed ones, plus their history;
  3. the conversation: INSERT … ON CONFLICT on the partial unique index of open
     conversations per (contact, channel);
  4. the message: INSERT … ON CONFLICT DO NOTHING on (channel, external id).
A message the channel already has (step 4 inserts nothing) is a replay: the
transaction is rolled back, so a replay changes nothing, and the original is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex import files
from rolodex.attributes import service as attributes
from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium, attributes_of, display_name
from rolodex.channels import repository
from rolodex.channels.schemas import InboundMessage, InboundResult
from rolodex.contacts import service as contacts
from rolodex.conversations import service as conversations
from rolodex.errors import Conflict, Forbidden, NotFound
from rolodex.i18n import _
from rolodex.kit.clock import utcnow
from rolodex.workspaces import service as workspaces

USER_ID = "user-id"


def require_inbound_caller(principal: Principal) -> None:
    """Admins and integration tokens (bot, crm) post inbound messages; agents may not (403)."""
    if principal.is_user and not principal.is_admin:
        raise Forbidden(
            _("Only admins and integration tokens can post inbound messages."),
            code="inbound_forbidden",
        )


@dataclass(frozen=True)
class Target:
    """The channel a message arrives on: its workspace, medium and phone region."""

    workspace_id: str
    channel_id: str
    medium: Medium
    region: str


@dataclass(frozen=True)
class Stored:
    """Where a new inbound message landed."""

    message_id: str
    conversation_id: str
    contact_id: str
    contact_created: bool


class Replay(Exception):
    """The channel already has a message with this external id: nothing may be kept."""


async def receive(
    session: AsyncSession,
    principal: Principal,
    channel_id: str,
    data: InboundMessage,
    *,
    data_dir: Path,
    max_attachment_bytes: int,
) -> InboundResult:
    """Store an inbound message with its contact, platform values, conversation and files."""
    require_inbound_caller(principal)
    channel = await inbound_channel(session, principal, channel_id)
    medium = Medium(channel.medium)
    target = Target(principal.workspace_id, channel.id, medium, channel.region)
    sent = sender_values(medium, data.sender.id, data.sender.attributes)
    values, ignored = attributes.check_sender_attributes(medium, sent, channel.region)
    decoded = files.decode_all(data.attachments, max_attachment_bytes)
    try:
        stored = await store(
            session,
            target,
            (principal.actor_kind, principal.actor_id),
            sender_id=data.sender.id,
            values=values,
            external_id=data.external_message_id,
            text=data.text,
            sent_at=data.sent_at,
        )
    except Replay:
        return await _replay(session, target, data.external_message_id, ignored)
    if decoded:
        await conversations.attach_files(
            session, target.workspace_id, stored.message_id, decoded, data_dir
        )
    return InboundResult(
        message_id=stored.message_id,
        conversation_id=stored.conversation_id,
        contact_id=stored.contact_id,
        duplicate=False,
        ignored_attributes=ignored,
    )


async def inbound_channel(
    session: AsyncSession, principal: Principal, channel_id: str
) -> repository.Receiving:
    """A channel that may receive messages, with its workspace's phone region; 404/409 otherwise.

    One Core row, which also carries the workspace's configuration version: the configuration
    kept in memory for it is then used with no read of its own (workspaces/config.py).
    """
    found = await repository.receiving(session, principal.workspace_id, channel_id)
    if found is None:
        raise NotFound(_("Channel not found."))
    if not found.enabled or found.archived:
        raise Conflict(
            _("This channel is disabled or archived and does not receive messages."),
            code="channel_inactive",
        )
    workspaces.note_config_version(session, principal.workspace_id, found.config_version)
    return found


async def store(
    session: AsyncSession,
    target: Target,
    actor: tuple[str, str | None],
    *,
    sender_id: str,
    values: dict[str, attributes.PlatformValue],
    external_id: str,
    text: str,
    sent_at: datetime | None,
    definitions: dict[str, str] | None = None,
    thread: conversations.Thread | None = None,
) -> Stored:
    """The one place a message becomes a contact, its values, a conversation and a message.

    Raises Replay when the channel has the external id already; the caller must then
    discard what this transaction (or savepoint) wrote.
    """
    now = utcnow()
    identity = await _contact_with_values(
        session, target, actor, sender_id, values, now, definitions
    )
    received = await conversations.receive_message(
        session,
        workspace_id=target.workspace_id,
        channel_id=target.channel_id,
        contact_id=identity.contact_id,
        external_id=external_id,
        text=text,
        sent_at=sent_at or now,
        at=now,
        thread=thread,
    )
    if received.message_id is None:
        raise Replay(external_id)
    return Stored(
        received.message_id, received.conversation_id, identity.contact_id, identity.created
    )


async def refresh_values(
    session: AsyncSession,
    target: Target,
    sender_id: str,
    values: dict[str, attributes.PlatformValue],
    at: datetime,
    actor: tuple[str, str | None] = ("system", None),
) -> str:
    """Write platform values (a profile fetched later, a visitor's details) to the sender's
    contact, made if new; its id."""
    identity = await _contact_with_values(session, target, actor, sender_id, values, at)
    return identity.contact_id


def sender_values(medium: Medium, sender_id: str, sent: dict[str, Any]) -> dict[str, object]:
    """A sender's platform values by short name, the user id filled where the medium has one."""
    # The platform user id is itself a platform attribute where the medium lists one
    # (twitter, instagram, facebook, webchat): fill it from sender.id unless sent.
    if USER_ID in attributes_of(medium):
        return {USER_ID: sender_id, **sent}
    return dict(sent)


async def _contact_with_values(
    session: AsyncSession,
    target: Target,
    actor: tuple[str, str | None],
    user_id: str,
    values: dict[str, attributes.PlatformValue],
    now: datetime,
    definitions: dict[str, str] | None = None,
) -> contacts.Identity:
    # The contact of the sender, with the sent platform values written (provenance:
    # source platform, the posting token, the channel, now) and its display name kept
    # in step with them.
    ws, medium, channel_id = target.workspace_id, target.medium, target.channel_id
    if definitions is None:
        definitions = await attributes.ensure_definitions(session, ws, medium)
    sent_values = {name: v.value for name, v in values.items()}
    identity = await contacts.identify(
        session,
        workspace_id=ws,
        medium=medium,
        channel_id=channel_id,
        platform_user_id=user_id,
        display_name=display_name(medium, sent_values, user_id),
        at=now,
    )
    provenance = attributes.Provenance("platform", actor[0], actor[1], channel_id, now)
    after = await attributes.write_values(
        session,
        ws,
        identity.contact_id,
        values,
        definitions,
        provenance,
        new_contact=identity.created,
    )
    if after is not None and not identity.created:
        await contacts.rename(session, ws, identity, display_name(medium, after, user_id))
    return identity


async def _replay(
    session: AsyncSession, target: Target, external_id: str, ignored: list[str]
) -> InboundResult:
    # Deliberately rolled back here rather than at the route boundary: a replay answers
    # 200 (a success) yet must leave no trace of the work done before the conflict.
    await session.rollback()
    found = await conversations.find_received(
        session, target.workspace_id, target.channel_id, external_id
    )
    assert found is not None, "the conflicting message is committed"
    message_id, conversation_id, contact_id = found
    return InboundResult(
        message_id=message_id,
        conversation_id=conversation_id,
        contact_id=contact_id,
        duplicate=True,
        ignored_attributes=ignored,
    )
