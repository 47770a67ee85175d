"""Reads composed across domains: the contact read and list, its history, the Contact tab and the
conversation list narrowed by contact groups. Writes stay in their domains; this reads after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.attributes.schemas import (
    VIP_KEY,
    AttributeKind,
    AttributeType,
    ContactAttributesUpdate,
    Format,
    ValueSource,
)
from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium, label_of
from rolodex.contacts import service as contacts
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import ConversationRead
from rolodex.crm import service as crm
from rolodex.errors import NotFound, PreconditionFailed
from rolodex.groups import service as groups
from rolodex.i18n import _
from rolodex.inbox.schemas import (
    AttributeChangeRead,
    ContactRead,
    ContactTabAttribute,
    ContactTabRead,
    ConversationItem,
    VipRead,
)
from rolodex.kit.pagination import id_page
from rolodex.linking import service as links
from rolodex.models import Contact, Conversation
from rolodex.plans import Feature, has_feature
from rolodex.schemas import IfMatch, assembled
from rolodex.workspaces import service as workspaces


async def _read_many(
    session: AsyncSession,
    workspace_id: str,
    rows: Sequence[Contact],
    hidden: attributes.Hidden = attributes.NOTHING,
) -> list[ContactRead]:
    values = await attributes.values_by_contact(session, workspace_id, [c.id for c in rows])
    for c in rows:
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
            version=c.version,
        )
        for c in rows
    ]


async def read_contact(session: AsyncSession, principal: Principal, contact_id: str) -> ContactRead:
    """One contact with its attribute values and linked contacts."""
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    hidden = await attributes.hidden_from(session, principal)
    read = (await _read_many(session, principal.workspace_id, [contact], hidden))[0]
    # One index look-up (R3): links are computed at read time, never stored.
    peers = await links.linked(session, principal.workspace_id, contact.id, limit=links.LINKS_SHOWN)
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
    hidden = await attributes.hidden_from(session, principal)
    stmt = contacts.search_statement(
        principal.workspace_id, q=q, channel_id=channel_id, all_values=hidden is attributes.NOTHING
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
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    hidden = await attributes.hidden_from(session, principal)
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


async def write_contact_attributes(
    session: AsyncSession,
    principal: Principal,
    contact_id: str,
    data: ContactAttributesUpdate,
    *,
    if_match: IfMatch = None,
) -> ContactRead:
    """Set or clear some of a contact's values (attributes decides), then read the contact.

    With `if_match`, only if the contact's version is one of them (else 412 stale, checked
    under the contact's row lock before anything is written).
    """
    if if_match is not None:
        contact = await contacts.access_contact_by_id(
            session, principal, contact_id, for_update=True
        )
        if not if_match.matches(contact.version):
            current = await read_contact(session, principal, contact_id)
            raise PreconditionFailed(
                _("Someone changed this contact since you loaded it."),
                extra={"current": current.model_dump(mode="json")},
            )
    await attributes.write_contact_attributes(session, principal, contact_id, data)
    return await read_contact(session, principal, contact_id)


def _tab_entry(row: Any, *, editable: bool) -> ContactTabAttribute:
    has_value = row.source is not None
    # Typed here from the database's own rows: built without a second validation.
    return assembled(
        ContactTabAttribute,
        {
            "key": row.key,
            # A built-in label (platform attributes) in the reader's language; typed ones as is.
            "label": label_of(row.key, row.label),
            "kind": AttributeKind(row.kind),
            "type": AttributeType(row.type),
            "format": Format(row.format) if row.format else None,
            "options": list(row.options) if row.options is not None else None,
            "value": row.value,
            "source": ValueSource(row.source) if has_value else None,
            "updated_at": row.updated_at,
            "editable": editable,
            "crm_managed": row.crm_managed,
            "lookup": row.lookup,
            "pending_value": row.pending_value,
            "pending": False,
        },
    )


async def contact_tab(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> ContactTabRead:
    """The Contact tab (R1.3): the enabled attributes for the conversation's channel, in order.

    Index look-ups whatever the workspace's size: one statement for the conversation's
    contact with every definition and value (and the configuration version), one for the
    linked contacts (none while no matching attribute is set), one for the CRM state.
    """
    rows = await attributes.contact_tab_rows(session, principal.workspace_id, conversation_id)
    if not rows:
        raise NotFound(_("Conversation not found."))
    first = rows[0]
    workspaces.note_config_version(session, principal.workspace_id, first.config_version)
    values: dict[str, str] = {}
    vip_shown = False
    entries = []
    everything = attributes.sees_hidden(principal)
    for row in rows:
        if row.key is None:
            continue
        if row.value is not None and (row.shown or everything):
            values[row.key] = row.value
        if not row.shown:
            continue
        if row.key == VIP_KEY and row.kind == AttributeKind.STANDARD:
            vip_shown = has_feature(principal.plan, Feature.VIP)
            continue
        editable = attributes.refusal(principal, row.kind, row.crm_managed) is None
        entries.append(_tab_entry(row, editable=editable))
    # The standard vip attribute is stored as text "true"/"false" and read as `vip`.
    is_vip = values.pop(VIP_KEY, None) == "true"
    peers = await links.linked(
        session, principal.workspace_id, first.contact_id, limit=links.LINKS_SHOWN
    )
    contact = ContactRead(
        id=first.contact_id,
        medium=Medium(first.medium),
        channel_id=first.channel_id,
        platform_user_id=first.platform_user_id,
        display_name=first.display_name,
        created_at=first.created_at,
        vip=is_vip,
        attributes=values,
        linked_contact_ids=[c for c, _, _ in peers],
        version=first.version,
    )
    state = await crm.contact_state(session, principal, first.contact_id)
    if state is not None and state.pending and not everything:
        shown = {entry.key for entry in entries}
        state.pending = {k: v for k, v in state.pending.items() if k in shown} or None
    for entry in entries:
        if state is not None and state.pending and entry.key in state.pending:
            entry.pending, entry.pending_value = True, state.pending[entry.key]
    return ContactTabRead(
        contact=contact,
        vip=VipRead(shown=vip_shown, value=is_vip),
        attributes=entries,
        crm=state,
        version=first.version,
        conversation_version=first.conversation_version,
    )


async def list_conversations(
    session: AsyncSession,
    principal: Principal,
    filters: conversations.ConversationFilters,
    *,
    group: str | None = None,
    vip: bool | None = None,
    cursor: str | None,
    limit: int,
    q: str | None = None,
) -> tuple[list[ConversationItem], str | None]:
    """The conversation list, narrowed also to a contact group's or VIP contacts', or a search."""
    narrowing = await groups.contact_filters(
        session, principal, Conversation.contact_id, group=group, vip=vip
    )
    if q is not None:
        hidden = await attributes.hidden_from(session, principal)
        narrowing.append(
            conversations.search_condition(
                principal.workspace_id, q, all_values=hidden is attributes.NOTHING
            )
        )
    rows, next_cursor = await conversations.list_conversations(
        session, principal, filters, cursor=cursor, limit=limit, where=narrowing
    )
    return await _items(session, principal, rows), next_cursor


async def _items(
    session: AsyncSession, principal: Principal, rows: Sequence[ConversationRead]
) -> list[ConversationItem]:
    vips = await groups.vip_contact_ids(session, principal, {r.contact_id for r in rows})
    unread = await conversations.unread_ids(session, principal, [r.id for r in rows])
    # Built from reads the server made itself: no second validation.
    return [
        assembled(
            ConversationItem, {**r.__dict__, "vip": r.contact_id in vips, "unread": r.id in unread}
        )
        for r in rows
    ]


async def conversation_item(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> ConversationItem:
    """One conversation as the list shows it to the caller (404 if missing or foreign)."""
    read = await conversations.read_conversation_row(session, principal, conversation_id)
    return (await _items(session, principal, [read]))[0]
