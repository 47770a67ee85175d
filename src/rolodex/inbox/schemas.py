"""What the inbox reads: a contact with its values and links, its history, the Contact tab."""

from __future__ import annotations

from datetime import datetime

from rolodex.attributes.schemas import AttributeKind, AttributeType, Format, ValueSource
from rolodex.catalogue import Medium
from rolodex.conversations.schemas import ConversationRead
from rolodex.crm.schemas import CrmStateRead
from rolodex.schemas import OutputModel


class ContactRead(OutputModel):
    """A contact with its attribute values by key."""

    id: str
    medium: Medium
    channel_id: str
    platform_user_id: str
    display_name: str
    created_at: datetime
    vip: bool = False
    attributes: dict[str, str]
    linked_contact_ids: list[str] = []
    # Bumped whenever its display name or one of its values changes (the ETag; If-Match).
    version: int = 1


class AttributeChangeRead(OutputModel):
    """One change of one attribute value, with its provenance."""

    id: str
    key: str
    old_value: str | None
    new_value: str | None
    source: str
    actor_kind: str | None
    actor_id: str | None
    channel_id: str | None
    at: datetime


class VipRead(OutputModel):
    """The VIP marker of the Contact tab: whether agents see it, and its value."""

    shown: bool
    value: bool


class ContactTabAttribute(OutputModel):
    """One attribute of the Contact tab with its value, provenance and editability."""

    key: str
    label: str
    kind: AttributeKind
    type: AttributeType
    format: Format | None
    options: list[str] | None
    value: str | None
    source: ValueSource | None
    updated_at: datetime | None
    editable: bool
    crm_managed: bool
    lookup: bool
    pending_value: str | None
    # A CRM answer waits for Confirm on this attribute (pending_value null: it would clear it).
    pending: bool = False


class ContactTabRead(OutputModel):
    """The Contact tab of a conversation (R1.3)."""

    contact: ContactRead
    vip: VipRead
    attributes: list[ContactTabAttribute]
    crm: CrmStateRead | None = None  # enterprise: validated, last look-up, pending values
    version: int = 1  # the contact's (send it as If-Match when writing its attributes)
    conversation_version: int = 1  # the conversation's


class ConversationItem(ConversationRead):
    """A conversation as the list shows it: with its contact's VIP badge and the caller's
    unread mark (its last message is inbound and they have not read it since)."""

    vip: bool = False
    unread: bool = False
