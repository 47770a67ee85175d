"""The Contact tab of a conversation (R1.3): what agents see beside the conversation.

Two index look-ups whatever the workspace's size: one statement for the conversation's
contact with every definition and value, and one for the linked contacts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import repository
from rolodex.attributes.formats import Format
from rolodex.attributes.schemas import (
    VIP_KEY,
    AttributeKind,
    AttributeType,
    ContactTabAttribute,
    ContactTabRead,
    ValueSource,
    VipRead,
)
from rolodex.attributes.values import refusal
from rolodex.attributes.visibility import sees_hidden
from rolodex.auth.principals import Principal
from rolodex.catalogue import Medium
from rolodex.contacts.schemas import ContactRead
from rolodex.contacts.service import LINKS_SHOWN
from rolodex.crm import service as crm
from rolodex.errors import NotFound
from rolodex.linking import repository as links
from rolodex.plans import Feature, has_feature


def _entry(row: Any, *, editable: bool) -> ContactTabAttribute:
    has_value = row.source is not None
    return ContactTabAttribute(
        key=row.key,
        label=row.label,
        kind=AttributeKind(row.kind),
        type=AttributeType(row.type),
        format=Format(row.format) if row.format else None,
        options=list(row.options) if row.options is not None else None,
        value=row.value,
        source=ValueSource(row.source) if has_value else None,
        updated_at=row.updated_at,
        editable=editable,
        crm_managed=row.crm_managed,
        lookup=row.lookup,
        pending_value=row.pending_value,
    )


async def contact_tab(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> ContactTabRead:
    """The enabled attributes for the conversation's channel, in order, with editability."""
    rows = await repository.contact_tab_rows(session, principal.workspace_id, conversation_id)
    if not rows:
        raise NotFound("Conversation not found.")
    first = rows[0]
    values: dict[str, str] = {}
    vip_shown = False
    attributes = []
    everything = sees_hidden(principal)
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
        editable = refusal(principal, row.kind, row.crm_managed) is None
        attributes.append(_entry(row, editable=editable))
    # The standard vip attribute is stored as text "true"/"false" and read as `vip`.
    is_vip = values.pop(VIP_KEY, None) == "true"
    peers = await links.linked(session, principal.workspace_id, first.contact_id, limit=LINKS_SHOWN)
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
    )
    state = await crm.contact_state(session, principal, first.contact_id)
    if state is not None and state.pending and not everything:
        shown = {entry.key for entry in attributes}
        state.pending = {k: v for k, v in state.pending.items() if k in shown} or None
    for entry in attributes:
        if state is not None and state.pending and entry.key in state.pending:
            entry.pending, entry.pending_value = True, state.pending[entry.key]
    return ContactTabRead(
        contact=contact,
        vip=VipRead(shown=vip_shown, value=is_vip),
        attributes=attributes,
        crm=state,
    )
