"""The Contact tab of a conversation (R1.3): what agents see beside the conversation.

A fixed number of index lookups whatever the workspace's size: the conversation, the
contact with its values (two), the workspace's flags, and one statement for the shown
definitions joined to the contact's values.
"""

from __future__ import annotations

from datetime import datetime

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
from rolodex.attributes.values import crm_editing_allowed, refusal
from rolodex.auth.principals import Principal
from rolodex.contacts import service as contacts
from rolodex.conversations import service as conversations
from rolodex.models import AttributeDefinition, AttributeValue
from rolodex.workspaces import service as workspaces
from rolodex.workspaces.plans import Feature, has_feature


def _entry(
    definition: AttributeDefinition, value: AttributeValue | None, *, editable: bool
) -> ContactTabAttribute:
    updated_at: datetime | None = value.updated_at if value is not None else None
    return ContactTabAttribute(
        key=definition.key,
        label=definition.label,
        kind=AttributeKind(definition.kind),
        type=AttributeType(definition.type),
        format=Format(definition.format) if definition.format else None,
        options=list(definition.options) if definition.options is not None else None,
        value=value.value if value is not None else None,
        source=ValueSource(value.source) if value is not None else None,
        updated_at=updated_at,
        editable=editable,
        crm_managed=definition.crm_managed,
        lookup=definition.lookup,
        pending_value=value.pending_value if value is not None else None,
    )


async def contact_tab(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> ContactTabRead:
    """The enabled attributes for the conversation's channel, in order, with editability."""
    conversation = await conversations.access_conversation_by_id(
        session, principal, conversation_id
    )
    contact = await contacts.read_contact(session, principal, conversation.contact_id)
    workspace = await workspaces.get_workspace(session, principal)
    crm_editing = crm_editing_allowed(workspace)
    # A contact's medium is its channel's (identities are scoped per medium or channel).
    rows = await repository.contact_tab_rows(
        session, principal.workspace_id, contact.id, contact.medium.value, conversation.channel_id
    )
    vip = VipRead(shown=False, value=contact.vip)
    attributes = []
    for definition, value in rows:
        if definition.key == VIP_KEY and definition.kind == AttributeKind.STANDARD:
            vip = VipRead(shown=has_feature(principal.plan, Feature.VIP), value=contact.vip)
            continue
        editable = refusal(principal, definition, crm_editing=crm_editing) is None
        attributes.append(_entry(definition, value, editable=editable))
    return ContactTabRead(contact=contact, vip=vip, attributes=attributes)
