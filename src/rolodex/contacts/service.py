"""Contacts: identity on inbound messages, search and reading."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import repository as attributes
from rolodex.attributes.schemas import VIP_KEY
from rolodex.attributes.visibility import NOTHING, Hidden, hidden_from
from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium, identity_scope
from rolodex.contacts import repository
from rolodex.contacts.events import ContactCreated
from rolodex.contacts.schemas import AttributeChangeRead, ContactRead
from rolodex.errors import NotFound
from rolodex.groups import service as groups
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.linking import repository as links
from rolodex.models import Contact

# A value shared by very many contacts (a switchboard number) lists only this many links.
LINKS_SHOWN = 200


@dataclass(frozen=True)
class Identity:
    """The contact an inbound message belongs to."""

    contact_id: str
    display_name: str
    created: bool


async def identify(
    session: AsyncSession,
    *,
    workspace_id: str,
    medium: Medium,
    channel_id: str,
    platform_user_id: str,
    display_name: str,
    at: datetime,
) -> Identity:
    """The contact of a platform identity, created on its first message (race-free)."""
    candidate = new_id("ct")
    contact_id, stored_name = await repository.upsert_identity(
        session,
        new_id=candidate,
        workspace_id=workspace_id,
        medium=medium.value,
        scope=identity_scope(medium, channel_id),
        platform_user_id=platform_user_id,
        channel_id=channel_id,
        display_name=display_name,
        at=at,
    )
    created = contact_id == candidate
    if created:
        await emit(
            session,
            ContactCreated(
                workspace_id=workspace_id,
                contact_id=contact_id,
                medium=medium.value,
                channel_id=channel_id,
            ),
        )
    return Identity(contact_id, stored_name, created=created)


async def rename(
    session: AsyncSession, workspace_id: str, identity: Identity, display_name: str
) -> None:
    """Store a contact's new display name when it differs."""
    if display_name != identity.display_name:
        await repository.set_display_name(session, workspace_id, identity.contact_id, display_name)


async def access_contact_by_id(
    session: AsyncSession, principal: Principal, contact_id: str
) -> Contact:
    """A contact of the caller's workspace; 404 for missing and foreign alike."""
    contact = await repository.get(session, principal.workspace_id, contact_id)
    if contact is None:
        raise NotFound("Contact not found.")
    return contact


async def _read_many(
    session: AsyncSession, workspace_id: str, contacts: Sequence[Contact], hidden: Hidden = NOTHING
) -> list[ContactRead]:
    values = await attributes.values_by_contact(session, workspace_id, [c.id for c in contacts])
    for c in contacts:
        for key in hidden.keys_on(c.channel_id):
            values[c.id].pop(key, None)
    return [
        ContactRead(
            id=c.id,
            medium=Medium(c.medium),
            channel_id=c.channel_id,
            platform_user_id=c.platform_user_id,
            display_name=c.display_name,
            created_at=c.created_at,
            # The standard vip attribute is stored as text "true"/"false" and read as `vip`.
            vip=values[c.id].pop(VIP_KEY, None) == "true",
            attributes=values[c.id],
        )
        for c in contacts
    ]


async def read_contact(session: AsyncSession, principal: Principal, contact_id: str) -> ContactRead:
    """One contact with its attribute values."""
    contact = await access_contact_by_id(session, principal, contact_id)
    hidden = await hidden_from(session, principal)
    read = (await _read_many(session, principal.workspace_id, [contact], hidden))[0]
    # One index look-up (R3): links are computed at read time, never stored.
    peers = await links.linked(session, principal.workspace_id, contact.id, limit=LINKS_SHOWN)
    read.linked_contact_ids = [c for c, _, _ in peers]
    return read


async def list_contacts(
    session: AsyncSession,
    principal: Principal,
    *,
    q: str | None,
    channel_id: str | None,
    cursor: str | None,
    limit: int,
    group: str | None = None,
    vip: bool | None = None,
) -> tuple[list[ContactRead], str | None]:
    """Contacts matching a search, a group or VIP, newest first, with their attribute values."""
    hidden = await hidden_from(session, principal)
    stmt = repository.search(
        principal.workspace_id, q=q, channel_id=channel_id, all_values=hidden is NOTHING
    )
    for condition in await groups.contact_filters(
        session, principal, Contact.id, group=group, vip=vip
    ):
        stmt = stmt.where(condition)
    rows, next_cursor = await id_page(
        session, stmt, Contact.id, cursor=cursor, limit=limit, newest_first=True
    )
    return await _read_many(session, principal.workspace_id, rows, hidden), next_cursor


async def contact_history(
    session: AsyncSession,
    principal: Principal,
    contact_id: str,
    *,
    key: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[AttributeChangeRead], str | None]:
    """A contact's attribute change history, newest first, optionally of one attribute."""
    contact = await access_contact_by_id(session, principal, contact_id)
    hidden = await hidden_from(session, principal)
    rows, next_cursor = await attributes.history_page(
        session,
        principal.workspace_id,
        contact.id,
        key=key,
        cursor=cursor,
        limit=limit,
        exclude=hidden.ids_on(contact.channel_id),
    )
    return [
        AttributeChangeRead(
            id=h.id,
            key=key,
            old_value=h.old_value,
            new_value=h.new_value,
            source=h.source,
            actor_kind=h.actor_kind,
            actor_id=h.actor_id,
            channel_id=h.channel_id,
            at=h.at,
        )
        for h, key in rows
    ], next_cursor


async def display_names(
    session: AsyncSession, principal: Principal, contact_ids: Sequence[str]
) -> dict[str, str]:
    """The display names of these contacts of the caller's workspace, by id."""
    ids = list(dict.fromkeys(contact_ids))
    return await repository.display_names(session, principal.workspace_id, ids)
