"""Contacts: identity on inbound messages, access by id, search, display names.

How a contact is read with its values, links and groups is the inbox's (inbox/service.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium, identity_scope
from rolodex.contacts import repository, search
from rolodex.contacts.events import ContactCreated, ContactRenamed
from rolodex.errors import NotFound
from rolodex.i18n import _
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.models import Contact, Conversation


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


async def find(
    session: AsyncSession,
    *,
    workspace_id: str,
    medium: Medium,
    channel_id: str,
    platform_user_id: str,
) -> str | None:
    """The contact of a platform identity if it exists (never creates one)."""
    scope = identity_scope(medium, channel_id)
    return await repository.find_identity(
        session, workspace_id, medium.value, scope, platform_user_id
    )


async def platform_user_id(session: AsyncSession, workspace_id: str, contact_id: str) -> str | None:
    """The platform's id of a contact (where replies to it go), if the contact exists."""
    contact = await repository.get(session, workspace_id, contact_id)
    return None if contact is None else contact.platform_user_id


async def rename(
    session: AsyncSession, workspace_id: str, identity: Identity, display_name: str
) -> None:
    """Store a contact's new display name when it differs (its version follows: a trigger)."""
    if display_name != identity.display_name:
        await repository.set_display_name(session, workspace_id, identity.contact_id, display_name)
        await emit(
            session,
            ContactRenamed(
                workspace_id=workspace_id,
                contact_id=identity.contact_id,
                display_name=display_name,
            ),
        )


async def access_contact_by_id(
    session: AsyncSession, principal: Principal, contact_id: str, *, for_update: bool = False
) -> Contact:
    """A contact of the caller's workspace; 404 for missing and foreign alike."""
    contact = await repository.get(
        session, principal.workspace_id, contact_id, for_update=for_update
    )
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def search_statement(
    workspace_id: str, *, q: str | None, channel_id: str | None, all_values: bool = True
) -> Select[Contact]:
    """The workspace's contacts whose name, a value or a message matches q (repository.search)."""
    return repository.search(workspace_id, q=q, channel_id=channel_id, all_values=all_values)


async def display_names(
    session: AsyncSession, principal: Principal, contact_ids: Sequence[str]
) -> dict[str, str]:
    """The display names of these contacts of the caller's workspace, by id."""
    ids = list(dict.fromkeys(contact_ids))
    return await repository.display_names(session, principal.workspace_id, ids)


def conversation_search(
    workspace_id: str, q: str, *, all_values: bool = True
) -> ColumnElement[bool]:
    """A condition on conversations: the contact's name or a value, or a message of the
    conversation, holds every word of q (prefix match, indexed; see search.py)."""
    return search.conversation_matches(Conversation, workspace_id, q, all_values=all_values)
