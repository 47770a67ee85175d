"""Contact schemas."""

from __future__ import annotations

from datetime import datetime

from rolodex.catalogue import Medium
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
