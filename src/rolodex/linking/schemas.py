"""Contact settings, link and cross-channel history schemas (SPEC R3, B3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from rolodex.catalogue import Medium
from rolodex.conversations.schemas import MessageAuthor, Status
from rolodex.schemas import InputModel, OutputModel

AnyKey = Annotated[str, Field(min_length=1, max_length=80)]
MAX_MAPPINGS = 100


class AttributeMappingItem(InputModel):
    """A platform attribute (`from`) that fills a custom attribute (`to`) on inbound messages."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: AnyKey = Field(alias="from", description="A platform attribute key.")
    to: AnyKey = Field(description="A custom attribute key of the same format.")


class ContactSettingsUpdate(InputModel):
    """Change the attribute used for matching (null: none) and/or replace the mappings."""

    matching_attribute: AnyKey | None = Field(
        default=None, description="A custom attribute key, or null to stop linking (R3.4)."
    )
    mappings: Annotated[list[AttributeMappingItem], Field(max_length=MAX_MAPPINGS)] | None = Field(
        default=None, description="The whole list of platform-to-custom mappings."
    )


class ContactSettingsRead(OutputModel):
    """How contacts are linked across channels in this workspace."""

    matching_attribute: str | None
    mappings: list[AttributeMappingItem]


class LinkReason(OutputModel):
    """Why two contacts are linked: the attribute used for matching and the shared value."""

    attribute: str
    value: str


class LinkRead(OutputModel):
    """A contact linked to another one, and why (B3)."""

    contact_id: str
    medium: Medium
    channel_id: str
    display_name: str
    reason: LinkReason


class HistoryConversationRead(OutputModel):
    """One conversation of a contact's cross-channel history."""

    id: str
    contact_id: str
    contact_display_name: str
    channel_id: str
    channel_name: str
    medium: Medium
    status: Status
    last_message_text: str | None
    last_message_author: MessageAuthor | None = Field(
        default=None, description="Who wrote the last message (null: no message yet)."
    )
    last_message_at: datetime
    created_at: datetime
    linked_because: LinkReason | None = Field(
        description="Null for the contact's own conversations."
    )
